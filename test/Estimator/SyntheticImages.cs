using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Estimator;

/// <summary>Tiny learnable images: class c lights up quadrant c of an 8x8 grayscale image, plus noise.</summary>
internal static class SyntheticImages
{
    public const int Side = 8;
    public static readonly string[] ClassNames = { "north-west", "north-east", "south-west", "south-east" };

    public sealed class Row
    {
        [VectorType(Side * Side)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    public static Row[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int c = i % ClassNames.Length;
            var pixels = new float[Side * Side];
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                {
                    bool lit = (y < Side / 2 ? 0 : 2) + (x < Side / 2 ? 0 : 1) == c;
                    pixels[y * Side + x] = MathF.Round((lit ? 180 : 40) + (float)random.NextDouble() * 60);
                }
            return new Row { Features = pixels, Label = ClassNames[c] };
        }).ToArray();
    }

    /// <summary>Rows with the label mapped to a key in <see cref="ClassNames"/> order.</summary>
    public static IDataView KeyedView(MLContext ml, Row[] rows)
    {
        var data = ml.Data.LoadFromEnumerable(rows);
        var keys = ml.Data.LoadFromEnumerable(ClassNames.Select(c => new KeyRow { Label = c }));
        return ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(data).Transform(data);
    }

    private sealed class KeyRow
    {
        public string Label { get; set; } = "";
    }

    /// <summary>A one-layer CCT small enough to train in seconds.</summary>
    public static readonly CctArchitecture TinyArchitecture = new()
    {
        NumLayers = 1, NumHeads = 2, EmbeddingDim = 16, MlpRatio = 1, KernelSize = 3, NumConvLayers = 1,
        ConvHiddenChannels = 8, AttentionDropout = 0, StochasticDepth = 0,
    };

    public static CompactTransformerOptions TinyOptions(int epochs = 8) => new()
    {
        CustomArchitecture = TinyArchitecture,
        Epochs = epochs,
        BatchSize = 16,
        LearningRate = 3e-3,
        WarmupEpochs = 1,
        RandomCropPadding = 0,
        HorizontalFlip = false,
        Seed = 3,
        NumberOfThreads = 1,
    };
}
