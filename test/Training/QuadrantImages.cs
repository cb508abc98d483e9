using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>Synthetic, trivially learnable data: 8x8 grayscale noise with one bright quadrant, whose index is the class.</summary>
internal static class QuadrantImages
{
    public const int Side = 8;
    public static readonly string[] ClassNames = ["top-left", "top-right", "bottom-left", "bottom-right"];

    public static ImageDataset Create(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * Side * Side];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % 4;
            labels[i] = label;
            int top = label / 2 * (Side / 2), left = label % 2 * (Side / 2);
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                {
                    bool bright = y >= top && y < top + Side / 2 && x >= left && x < left + Side / 2;
                    pixels[i * Side * Side + y * Side + x] = (byte)(bright ? random.Next(150, 256) : random.Next(0, 100));
                }
        }
        return ImageDataset.FromBytes(pixels, labels, 1, Side, Side, ClassNames);
    }

    /// <summary>A one-layer CCT for 8x8x1 images, 4 classes (16 tokens of width 32).</summary>
    public static CctArchitecture TinyArchitecture { get; } = new()
    {
        NumLayers = 1,
        NumHeads = 2,
        EmbeddingDim = 32,
        MlpRatio = 1,
        NumConvLayers = 1,
        KernelSize = 3,
        ConvHiddenChannels = 16,
        ImageHeight = Side,
        ImageWidth = Side,
        InputChannels = 1,
        NumClasses = 4,
    };

    /// <summary>The tiny network, initialised from <paramref name="seed"/>.</summary>
    public static CctNetwork TinyNetwork(int seed)
    {
        Native.TorchRuntime.EnsureInitialized();
        manual_seed(seed);
        return new CctNetwork(TinyArchitecture);
    }
}
