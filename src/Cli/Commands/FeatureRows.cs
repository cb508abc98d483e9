using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>An <see cref="ImageDataset"/> as an IDataView: a known-size <c>Vector&lt;Single&gt;</c> of pixels and a text label.</summary>
internal static class FeatureRows
{
    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class KeyRow
    {
        public string Key { get; set; } = "";
    }

    /// <summary>One row per image: its pixels as floats (values as stored, planar CHW) and its class name.</summary>
    public static IDataView Create(MLContext mlContext, ImageDataset images, string featureColumn, string labelColumn)
    {
        int size = images.ImageSize;
        var rows = new Row[images.Count];
        var batch = new float[size];
        var label = new long[1];
        for (int i = 0; i < images.Count; i++)
        {
            images.CopyBatch([i], batch, label);
            rows[i] = new Row { Features = batch.ToArray(), Label = images.ClassNames[(int)label[0]] };
        }
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Features)].ColumnName = featureColumn;
        definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        definition[nameof(Row.Label)].ColumnName = labelColumn;
        return mlContext.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>The class names in key order, as the one-column key data of <c>MapValueToKey</c>.</summary>
    public static IDataView KeyData(MLContext mlContext, IEnumerable<string> classNames) =>
        mlContext.Data.LoadFromEnumerable(classNames.Select(n => new KeyRow { Key = n }));
}
