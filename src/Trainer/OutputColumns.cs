using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// The output columns a multiclass trainer declares in <c>GetOutputSchema</c>. ML.NET 5 keeps the constructor of
/// <see cref="SchemaShape.Column"/> (and every public way to make one from a schema) internal, so the
/// constructor is reached by reflection; its absence in a future ML.NET fails loudly here.
/// </summary>
internal static class OutputColumns
{
    private static readonly ConstructorInfo ColumnConstructor = typeof(SchemaShape.Column)
        .GetConstructors(BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Public)
        .SingleOrDefault(c => c.GetParameters().Length == 5)
        ?? throw new MissingMethodException("SchemaShape.Column(name, kind, itemType, isKey, annotations) is not in this ML.NET version.");

    private static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations) =>
        (SchemaShape.Column)ColumnConstructor.Invoke(new object?[] { name, kind, itemType, isKey, annotations });

    public static IReadOnlyList<SchemaShape.Column> Shape(string scoreColumnName, string predictedLabelColumnName)
    {
        var textSlots = Column("SlotNames", SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false, null);
        var textKeys = Column("KeyValues", SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false, null);
        return new[]
        {
            Column(scoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, new SchemaShape(new[] { textSlots })),
            Column(predictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, new SchemaShape(new[] { textKeys })),
        };
    }
}
