using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Truncated-normal initialisation. TorchSharp 0.107's <c>nn.init.trunc_normal_</c> fills the tensor with a
/// constant (seen here: every element equal to the requested std), so the original's init is rebuilt
/// from the inverse normal CDF: uniform samples between CDF(a) and CDF(b), mapped back through erfinv.
/// </summary>
public static class TruncatedNormal
{
    /// <summary>Fills <paramref name="tensor"/> in place with N(mean, std) truncated to [a, b] (absolute bounds) and returns it.</summary>
    public static Tensor Fill(Tensor tensor, double std, double mean = 0, double a = -2, double b = 2)
    {
        using var noGrad = no_grad();
        double lower = NormalCdf((a - mean) / std), upper = NormalCdf((b - mean) / std);
        tensor.uniform_(2 * lower - 1, 2 * upper - 1);
        tensor.erfinv_();
        // Explicit scalars, disposed after the calls: an implicit Scalar hands its raw handle to native code and is then
        // unreachable, so a GC during the call could finalize (free) it while libtorch reads it.
        using Scalar scale = std * Math.Sqrt(2), shift = mean, low = a, high = b;
        tensor.mul_(scale).add_(shift);
        tensor.clamp_(low, high);
        return tensor;
    }

    private static double NormalCdf(double x)
    {
        using var t = tensor(x / Math.Sqrt(2), ScalarType.Float64);
        using var erf = t.erf();
        return 0.5 * (1 + erf.item<double>());
    }
}
