using System.Runtime.Intrinsics;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>The fused attention's vector building blocks (Modeling/FloatVectors): exp's accuracy, reductions, transpose.</summary>
public sealed unsafe class FloatVectorsTests
{
    [Fact]
    public void ExpIsWithinAFewUlpOfTheExactValueOverTheFloatRange()
    {
        double worst = 0;
        for (double x = -87; x <= 88; x += 0.0137)
        {
            var lanes = Vector256.Create((float)x, (float)(x / 2), (float)(x / 3), (float)(x / 7), (float)(-x / 5), 0f, (float)(x / 1000), (float)(-x / 11));
            var exps = FloatVectors.Exp(lanes);
            for (int i = 0; i < 8; i++)
            {
                double exact = Math.Exp(lanes.GetElement(i));
                worst = Math.Max(worst, Math.Abs(exps.GetElement(i) - exact) / exact);
            }
        }
        Assert.True(worst < 3e-7, $"largest relative error {worst}"); // 2.5 ulp of float
        // Far below the range the result is ~0 (clamped, never a NaN or garbage from the exponent field).
        Assert.InRange(FloatVectors.Exp(Vector256.Create(-1000f)).GetElement(0), 0f, 1e-37f);
    }

    [Fact]
    public void ReductionsAndTransposeGiveWhatTheyName()
    {
        var v = Vector256.Create(3f, -1f, 8f, 2.5f, 0f, 7.75f, -9f, 1f);
        Assert.Equal(8f, FloatVectors.Max(v));
        Assert.Equal(12.25f, FloatVectors.Sum(v));

        var source = new float[8 * 11];
        for (int i = 0; i < source.Length; i++)
            source[i] = i;
        var destination = new float[8 * 9];
        fixed (float* s = source, d = destination)
            FloatVectors.Transpose8x8(s, 11, d, 9);
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                Assert.Equal(source[c * 11 + r], destination[r * 9 + c]);
        for (int r = 0; r < 8; r++)
            Assert.Equal(0f, destination[r * 9 + 8]);
    }
}
