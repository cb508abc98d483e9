using Xunit;
namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>The fixture README's recommended float32 tolerance for logits: |a - b| &lt;= 1e-5 + 1e-4 |b|.</summary>
internal static class Tolerance
{
    public static double AssertLogitsClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            maxDiff = Math.Max(maxDiff, diff);
            Assert.True(diff <= 1e-5 + 1e-4 * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|diff| {diff:E2}).");
        }
        return maxDiff;
    }

    public static float[] Softmax(float[] logits)
    {
        double max = logits.Max();
        double[] e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }
}
