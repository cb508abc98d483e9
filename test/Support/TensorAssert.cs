using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Support;

internal static class TensorAssert
{
    /// <summary>Asserts |actual - expected| &lt;= absolute + relative * |expected| element-wise, reporting the worst element.</summary>
    public static void Close(Tensor expected, Tensor actual, double absolute, double relative = 0, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.to_type(ScalarType.Float64);
        using var a = actual.to_type(ScalarType.Float64);
        using var diff = (a - e).abs();
        using var bound = e.abs() * relative + absolute;
        using var excess = diff - bound;
        double worst = excess.max().item<double>();
        double maxDiff = diff.max().item<double>();
        Assert.True(worst <= 0, $"{what}: max |diff| {maxDiff:E3} exceeds {absolute:E1} + {relative:E1}*|expected|");
    }

    public static double MaxAbsDiff(Tensor expected, Tensor actual)
    {
        using var d = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max();
        return d.item<double>();
    }
}
