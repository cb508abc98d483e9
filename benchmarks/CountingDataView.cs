using Microsoft.ML;

namespace Benchmarks;

/// <summary>Passes an <see cref="IDataView"/> through and counts the cursors opened on it (each one is a full read of the source).</summary>
internal sealed class CountingDataView(IDataView inner) : IDataView
{
    private int cursors;

    public int Cursors => cursors;

    public bool CanShuffle => inner.CanShuffle;

    public DataViewSchema Schema => inner.Schema;

    public long? GetRowCount() => inner.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        Interlocked.Increment(ref cursors);
        return inner.GetRowCursor(columnsNeeded, rand);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        Interlocked.Increment(ref cursors);
        return inner.GetRowCursorSet(columnsNeeded, n, rand);
    }
}
