using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Presents an <see cref="ImageDataset"/> as an <see cref="IDataView"/> the trainer reads: a key-typed label column
/// (key values = class names, in label order) and a pixel-vector feature column (<c>Vector&lt;Byte&gt;</c> for 8-bit
/// data, else <c>Vector&lt;Single&gt;</c>) of C*H*W values in planar CHW order, as <c>ExtractPixels</c> writes them.
/// </summary>
public static class ImageDatasetDataView
{
    /// <summary>The data view over <paramref name="data"/> (rows are made lazily; nothing is copied up front).</summary>
    /// <param name="mlContext">The context whose data catalog builds the view.</param>
    /// <param name="data">The images.</param>
    /// <param name="labelColumnName">Name of the key-typed label column.</param>
    /// <param name="featureColumnName">Name of the pixel-vector column.</param>
    public static IDataView ToDataView(MLContext mlContext, ImageDataset data, string labelColumnName = DefaultColumns.Label,
        string featureColumnName = DefaultColumns.Features)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(data);
        return data.StoresBytes
            ? Build<byte>(mlContext, data, labelColumnName, featureColumnName, NumberDataViewType.Byte, (d, i, into) => d.BytePixels.Slice(i * d.ImageSize, d.ImageSize).CopyTo(into))
            : Build<float>(mlContext, data, labelColumnName, featureColumnName, NumberDataViewType.Single, (d, i, into) => d.FloatPixels.Slice(i * d.ImageSize, d.ImageSize).CopyTo(into));
    }

    private static IDataView Build<T>(MLContext ml, ImageDataset data, string label, string feature, PrimitiveDataViewType itemType,
        Action<ImageDataset, int, T[]> copy)
    {
        var schema = SchemaDefinition.Create(typeof(Row<T>));
        // The definition finds columns by their current name: set types and annotations before renaming.
        var labelColumn = schema[nameof(Row<T>.Label)];
        var featureColumn = schema[nameof(Row<T>.Features)];
        labelColumn.ColumnType = new KeyDataViewType(typeof(uint), data.ClassCount);
        var names = new VBuffer<ReadOnlyMemory<char>>(data.ClassCount, data.ClassNames.Select(n => n.AsMemory()).ToArray());
        // "KeyValues" is the annotation kind MapValueToKey writes (AnnotationUtils.Kinds.KeyValues is internal).
        labelColumn.AddAnnotation("KeyValues", names, new VectorDataViewType(TextDataViewType.Instance, data.ClassCount));
        featureColumn.ColumnType = new VectorDataViewType(itemType, data.ImageSize);
        labelColumn.ColumnName = label;
        featureColumn.ColumnName = feature;
        return ml.Data.LoadFromEnumerable(Rows(data, copy), schema);
    }

    private static IEnumerable<Row<T>> Rows<T>(ImageDataset data, Action<ImageDataset, int, T[]> copy)
    {
        for (int i = 0; i < data.Count; i++)
        {
            var pixels = new T[data.ImageSize];
            copy(data, i, pixels);
            yield return new Row<T> { Label = (uint)data.Labels[i], Features = pixels }; // 0-based: LoadFromEnumerable stores key columns as value + 1
        }
    }

    private sealed class Row<T>
    {
        public uint Label { get; set; }

        public T[] Features { get; set; } = [];
    }
}
