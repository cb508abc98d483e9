using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>An <see cref="ImageDataset"/> as an IDataView: a known-size <c>Vector&lt;Single&gt;</c> of pixels and a text label.</summary>
internal static class FeatureRows
{
    private sealed class Row<T>
    {
        public T[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class KeyRow
    {
        public string Key { get; set; } = "";
    }

    /// <summary>One row per image: its pixels (values as stored, planar CHW; bytes when <paramref name="bytes"/>, else floats) and its class name.</summary>
    public static IDataView Create(MLContext mlContext, ImageDataset images, string featureColumn, string labelColumn, bool bytes = false)
    {
        if (!bytes)
            return Create<float>(mlContext, images, featureColumn, labelColumn, NumberDataViewType.Single, (i, into) =>
            {
                Span<long> label = stackalloc long[1];
                images.CopyBatch([i], into, label);
            });
        if (!images.StoresBytes)
            throw new InvalidDataException("The model takes 8-bit pixels but the images were not read as bytes.");
        return Create<byte>(mlContext, images, featureColumn, labelColumn, NumberDataViewType.Byte,
            (i, into) => images.BytePixels.Slice(i * images.ImageSize, images.ImageSize).CopyTo(into));
    }

    private static IDataView Create<T>(MLContext mlContext, ImageDataset images, string featureColumn, string labelColumn,
        PrimitiveDataViewType itemType, Action<int, T[]> copy)
    {
        int size = images.ImageSize;
        var rows = new Row<T>[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var pixels = new T[size];
            copy(i, pixels);
            rows[i] = new Row<T> { Features = pixels, Label = images.ClassNames[images.Labels[i]] };
        }
        var definition = SchemaDefinition.Create(typeof(Row<T>));
        // Columns are found by their current name: take both before renaming either.
        var features = definition[nameof(Row<T>.Features)];
        var label = definition[nameof(Row<T>.Label)];
        features.ColumnType = new VectorDataViewType(itemType, size);
        features.ColumnName = featureColumn;
        label.ColumnName = labelColumn;
        return mlContext.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>The class names in key order, as the one-column key data of <c>MapValueToKey</c>.</summary>
    public static IDataView KeyData(MLContext mlContext, IEnumerable<string> classNames) =>
        mlContext.Data.LoadFromEnumerable(classNames.Select(n => new KeyRow { Key = n }));
}
