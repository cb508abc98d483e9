using Microsoft.ML.CompactTransformer.Data;
using Xunit;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

public class PixelVectorShapeTests
{
    [Theory]
    [InlineData(784, 1, 28, 28)]
    [InlineData(3072, 3, 32, 32)]
    [InlineData(1024, 1, 32, 32)]
    [InlineData(2352, 3, 28, 28)]
    [InlineData(3 * 64 * 64, 3, 64, 64)]
    public void InfersSquareGrayOrRgbFromTheLength(int length, int c, int h, int w)
    {
        Assert.Equal((c, h, w), PixelVectorShape.Resolve("Pixels", length, null, null, null));
    }

    [Fact]
    public void UsesWhatIsGiven()
    {
        Assert.Equal((4, 8, 2), PixelVectorShape.Resolve("P", 64, null, 8, 2));   // RGBA from ExtractPixels
        Assert.Equal((3, 4, 8), PixelVectorShape.Resolve("P", 96, 3, 4, null));
        Assert.Equal((1, 16, 64), PixelVectorShape.Resolve("P", 1024, 1, null, 64));
    }

    [Fact]
    public void ImpossibleAndAmbiguousLengthsNameTheColumnAndLength()
    {
        var e = Assert.Throws<ArgumentException>(() => PixelVectorShape.Resolve("Pixels", 1000, null, null, null));
        Assert.Contains("'Pixels'", e.Message);
        Assert.Contains("1000", e.Message);

        // 48 = 3 x 4 x 4 = 12 x 2 x 2 ... with only the width given, 1 x 12 x 4 and 3 x 4 x 4 both fit.
        var ambiguous = Assert.Throws<ArgumentException>(() => PixelVectorShape.Resolve("Px", 48, null, null, 4));
        Assert.Contains("several", ambiguous.Message);
        Assert.Contains("1x12x4", ambiguous.Message);
        Assert.Contains("3x4x4", ambiguous.Message);
    }
}
