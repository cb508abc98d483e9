using System.Globalization;

namespace GpuCheck;

/// <summary>A CSV file written row by row (invariant culture; no field holds a comma).</summary>
internal sealed class Csv : IDisposable
{
    private readonly StreamWriter? writer;

    /// <summary>Opens <paramref name="path"/> (null: write nothing) and writes the header.</summary>
    public Csv(string? path, params string[] header)
    {
        if (path is null)
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        writer = new StreamWriter(path);
        writer.WriteLine(string.Join(",", header));
    }

    public void Row(params object?[] fields)
    {
        writer?.WriteLine(string.Join(",", fields.Select(f => f switch
        {
            null => "",
            double d => d.ToString("G6", CultureInfo.InvariantCulture),
            float f1 => f1.ToString("G6", CultureInfo.InvariantCulture),
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            var other => other.ToString(),
        })));
        writer?.Flush();
    }

    public void Dispose() => writer?.Dispose();
}
