using SkiaSharp;

namespace Microsoft.ML.CompactTransformer.Plotting;

/// <summary>Ten distinguishable colours (the common "tab10" set), reused in order.</summary>
internal static class ChartPalette
{
    private static readonly SKColor[] Colors =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    /// <summary>The colour of the <paramref name="index"/>-th series.</summary>
    public static SKColor At(int index) => Colors[index % Colors.Length];
}
