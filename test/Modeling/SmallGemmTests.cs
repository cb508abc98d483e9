using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>The fused attention's small matrix products (Modeling/SmallGemm) against libtorch's, edges and pitches included.</summary>
public sealed unsafe class SmallGemmTests
{
    public SmallGemmTests() => TorchRuntime.EnsureInitialized();

    [Theory]
    [InlineData(64, 64, 64)]
    [InlineData(7, 8, 5)]   // rows not a multiple of 4, one 8-column block
    [InlineData(13, 24, 49)] // a 16-column block and an 8-column one
    [InlineData(1, 40, 3)]
    public void ProductsEqualLibtorchsForAAndATransposed(int m, int n, int k)
    {
        Assert.True(SmallGemm.IsSupported, "this machine has AVX2 and FMA");
        var generator = new Generator((ulong)(m * 1000 + n * 10 + k));
        // Pitches wider than the matrices, and C's margins must stay untouched.
        using var a = randn([m, k + 3], generator: generator);
        using var aStoredTransposed = randn([k, m + 5], generator: generator);
        using var b = randn([k, n + 8], generator: generator);
        using var c = full(m, n + 2, 99f);
        using var cTransposed = full(m, n + 2, 99f);
        fixed (byte* pa = a.bytes, pat = aStoredTransposed.bytes, pb = b.bytes, pc = c.bytes, pct = cTransposed.bytes)
        {
            SmallGemm.Multiply((float*)pa, k + 3, (float*)pb, n + 8, (float*)pc, n + 2, m, n, k);
            SmallGemm.MultiplyTransposedA((float*)pat, m + 5, (float*)pb, n + 8, (float*)pct, n + 2, m, n, k);
        }
        using var bUsed = b.narrow(1, 0, n);
        using var expected = a.narrow(1, 0, k).mm(bUsed);
        using var expectedTransposed = aStoredTransposed.narrow(1, 0, m).t().mm(bUsed);
        Assert.True(c.narrow(1, 0, n).allclose(expected, rtol: 1e-5, atol: 1e-5), "A B differs");
        Assert.True(cTransposed.narrow(1, 0, n).allclose(expectedTransposed, rtol: 1e-5, atol: 1e-5), "A^T B differs");
        Assert.True(c.narrow(1, n, 2).eq(99f).all().item<bool>(), "A B wrote past its columns");
        Assert.True(cTransposed.narrow(1, n, 2).eq(99f).all().item<bool>(), "A^T B wrote past its columns");
    }

    [Fact]
    public void AnAccumulatingProductAddsToCAndRefusesEdgesItCannotTake()
    {
        var generator = new Generator(11);
        using var aStoredTransposed = randn([21, 8], generator: generator);
        using var b = randn([21, 32], generator: generator);
        using var c = randn([8, 32], generator: generator);
        using var expected = c + aStoredTransposed.t().mm(b);
        fixed (byte* pa = aStoredTransposed.bytes, pb = b.bytes, pc = c.bytes)
        {
            SmallGemm.MultiplyTransposedA((float*)pa, 8, (float*)pb, 32, (float*)pc, 32, 8, 32, 21, accumulate: true);
            nint a = (nint)pa, bb = (nint)pb, cc = (nint)pc;
            Assert.Throws<ArgumentException>(() => SmallGemm.MultiplyTransposedA((float*)a, 8, (float*)bb, 32, (float*)cc, 32, 6, 32, 21, accumulate: true));
        }
        Assert.True(c.allclose(expected, rtol: 1e-5, atol: 1e-5), "C + A^T B differs");
    }
}
