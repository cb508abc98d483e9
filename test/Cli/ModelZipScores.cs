using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

/// <summary>Scores rows of features with a saved model zip the way any ML.NET user would: Model.Load, then Transform.</summary>
internal static class ModelZipScores
{
    private sealed class Row
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>The Score vectors of <paramref name="features"/> (rows of C*H*W floats, back to back).</summary>
    public static float[][] Score(string modelPath, float[] features)
    {
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(modelPath, out var inputSchema);
        try
        {
            var column = inputSchema[DefaultColumns.Features];
            int size = ((VectorDataViewType)column.Type).Size;
            Assert.Equal(0, features.Length % size);
            var rows = Enumerable.Range(0, features.Length / size).Select(r => new Row { Features = features[(r * size)..((r + 1) * size)] }).ToArray();
            var definition = SchemaDefinition.Create(typeof(Row));
            definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            var scored = model.Transform(ml.Data.LoadFromEnumerable(rows, definition));
            return scored.GetColumn<float[]>(DefaultColumns.Score).ToArray();
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    /// <summary>Row-wise softmax of logits (rows of <paramref name="classes"/> values), in double.</summary>
    public static double[][] Softmax(float[] logits, int classes) =>
        logits.Chunk(classes).Select(row =>
        {
            double max = row.Max();
            var e = row.Select(v => Math.Exp(v - max)).ToArray();
            double sum = e.Sum();
            return e.Select(v => v / sum).ToArray();
        }).ToArray();

    public static void AssertClose(double[][] expected, float[][] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.Equal(expected[r].Length, actual[r].Length);
            for (int k = 0; k < expected[r].Length; k++)
                Assert.True(Math.Abs(expected[r][k] - actual[r][k]) <= tolerance,
                    $"row {r}, class {k}: expected {expected[r][k]:R}, got {actual[r][k]:R} (tolerance {tolerance})");
        }
    }
}
