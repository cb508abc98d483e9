using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// The output columns a multiclass trainer declares. ML.NET keeps <c>SchemaShape.Column</c>'s constructor internal,
/// so the shapes are read off a small schema built with the public <see cref="DataViewSchema.Builder"/>.
/// </summary>
internal static class OutputColumns
{
    public static IReadOnlyList<SchemaShape.Column> Shape(string scoreColumnName, string predictedLabelColumnName)
    {
        var slotNames = new DataViewSchema.Annotations.Builder();
        slotNames.Add(AnnotationUtils.Kinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, 1),
            (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(1, new[] { "class".AsMemory() }));
        var keyValues = new DataViewSchema.Annotations.Builder();
        keyValues.Add(AnnotationUtils.Kinds.KeyValues, new VectorDataViewType(TextDataViewType.Instance, 1),
            (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(1, new[] { "class".AsMemory() }));

        var schema = new DataViewSchema.Builder();
        schema.AddColumn(scoreColumnName, new VectorDataViewType(NumberDataViewType.Single, 1), slotNames.ToAnnotations());
        schema.AddColumn(predictedLabelColumnName, new KeyDataViewType(typeof(uint), 1), keyValues.ToAnnotations());
        var shape = SchemaShape.Create(schema.ToSchema());
        return new[] { shape[0], shape[1] };
    }
}
