using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The weight gradient of a stride-1 channels-last convolution, computed here instead of by oneDNN: applied to the
/// output of <c>conv2d(input, weight.detach())</c>, it passes the output through unchanged and, in the backward pass,
/// passes its gradient on and gives <c>weight</c> the gradient <c>dW[o, c, ky, kx] = sum over images and positions of
/// dY[o at (y, x)] * X[c at (y + ky - p, x + kx - p)]</c>. oneDNN then computes only the input gradient.
/// </summary>
/// <remarks>
/// Why: for cct_2's second convolution (64 -> 128 channels, 16 x 16, 32 images on one thread) oneDNN's weight gradient
/// (its jit:avx2 kernel) ran at 40-45 GFLOP/s, this one at 53-57 on the same machine. Per image, per kernel tap and
/// per block of 16 input channels, a row of positions is one accumulating product of <see cref="SmallGemm"/>: 4 x 16
/// blocks of dW stay in registers while the row streams by (dY's 4 output channels broadcast, X's 16 input channels
/// loaded, both rows in L1), and the (out x 16) slice of dW stays in L1 for the image's rows. Needs AVX2 and FMA, float32 channels-last tensors on the CPU, input channels a multiple of 16,
/// output channels a multiple of 4; it runs on the calling thread (a half-batch step's one intra-op thread).
/// </remarks>
internal sealed unsafe class ConvolutionWeightGradient : autograd.SingleTensorFunction<ConvolutionWeightGradient>
{
    /// <inheritdoc />
    public override string Name => nameof(ConvolutionWeightGradient);

    /// <summary>
    /// Whether the weight gradient of <c>conv2d(input, weight, stride, padding)</c> can be computed here: float32
    /// channels-last input (N, C, H, W) and weight (O, C, K, K) on the CPU, stride 1, square kernel, C a multiple of 16,
    /// O a multiple of 4.
    /// </summary>
    public static bool Applies(Tensor input, Tensor weight, long[] stride, long[] padding) =>
        SmallGemm.IsSupported && input.device_type == DeviceType.CPU && input.dtype == ScalarType.Float32
        && weight.dtype == ScalarType.Float32 && input.dim() == 4 && weight.dim() == 4
        && input.shape[1] == weight.shape[1] && input.shape[1] % 16 == 0 && weight.shape[0] % 4 == 0
        && weight.shape[2] == weight.shape[3] && stride.All(s => s == 1) && padding.Length == 2 && padding[0] == padding[1]
        && padding[0] >= 0 && padding[0] < weight.shape[2]
        && input.permute(0, 2, 3, 1).is_contiguous() && input.numel() <= int.MaxValue;

    /// <summary>
    /// <paramref name="output"/> = <c>conv2d(input, weight.detach(), stride 1, padding)</c>, given back unchanged, with
    /// <paramref name="weight"/>'s gradient computed here in the backward pass.
    /// </summary>
    public static Tensor Apply(Tensor output, Tensor input, Tensor weight, long padding)
    {
        long kernel = weight.shape[2];
        if (!Applies(input, weight, [1, 1], [padding, padding]))
            throw new ArgumentException($"The weight gradient is computed here for float32 channels-last CPU convolutions of stride 1 with input channels a multiple of 16 and output channels a multiple of 4; got input {input.dtype} {string.Join('x', input.shape)}, weight {string.Join('x', weight.shape)}.", nameof(input));
        long expectedHeight = input.shape[2] + 2 * padding - kernel + 1, expectedWidth = input.shape[3] + 2 * padding - kernel + 1;
        if (output.dim() != 4 || output.shape[0] != input.shape[0] || output.shape[1] != weight.shape[0] || output.shape[2] != expectedHeight || output.shape[3] != expectedWidth)
            throw new ArgumentException($"The convolution's output should be {input.shape[0]}x{weight.shape[0]}x{expectedHeight}x{expectedWidth}; got {string.Join('x', output.shape)}.", nameof(output));
        return apply(output, input, weight, new Geometry(padding, weight.shape[0], kernel));
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var output = (Tensor)vars[0];
        var input = (Tensor)vars[1];
        ctx.save_for_backward([input]);
        ctx.save_data(nameof(Geometry), (Geometry)vars[3]);
        return output.alias();
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var geometry = (Geometry)ctx.get_data(nameof(Geometry));
        using var input = ctx.get_saved_variables()[0];
        using var inputRows = input.permute(0, 2, 3, 1);
        using var gradientRows = grad_output.permute(0, 2, 3, 1).contiguous();
        long o = geometry.OutputChannels, k = geometry.Kernel, c = input.shape[1];
        // (O, K, K, C) memory: the weight's channels-last layout once permuted back to (O, C, K, K).
        var weightGradient = empty(o, k, k, c);
        fixed (byte* x = inputRows.bytes, g = gradientRows.bytes, w = weightGradient.bytes)
            Compute((float*)x, (float*)g, (float*)w, new Sizes(input, gradientRows, geometry));
        return [grad_output, null!, weightGradient.permute(0, 3, 1, 2), null!];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute(float* x, float* g, float* w, Sizes s)
    {
        int taps = s.K * s.K, wPitch = taps * s.C;
        new Span<float>(w, s.O * wPitch).Clear();
        for (int b = 0; b < s.B; b++)
            for (int tap = 0; tap < taps; tap++)
            {
                int ky = tap / s.K, kx = tap % s.K;
                // Output columns whose input column x + kx - p lies inside the image.
                int x0 = Math.Max(0, s.P - kx), x1 = Math.Min(s.OutW, s.W + s.P - kx);
                if (x1 <= x0)
                    continue;
                for (int cb = 0; cb < s.C; cb += 16)
                    for (int y = 0; y < s.OutH; y++)
                    {
                        int inputY = y + ky - s.P;
                        if ((uint)inputY >= (uint)s.H)
                            continue;
                        float* gRow = g + ((long)(b * s.OutH + y) * s.OutW + x0) * s.O;
                        float* xRow = x + ((long)(b * s.H + inputY) * s.W + x0 + kx - s.P) * s.C + cb;
                        // dW[:, tap, cb..cb+15] (O x 16, rows wPitch apart) += dY_row^T (O x positions) X_row (positions x 16).
                        SmallGemm.MultiplyTransposedA(gRow, s.O, xRow, s.C, w + tap * s.C + cb, wPitch, s.O, 16, x1 - x0, accumulate: true);
                    }
            }
    }

    private sealed record Geometry(long Padding, long OutputChannels, long Kernel);

    private readonly struct Sizes(Tensor input, Tensor gradientRows, Geometry geometry)
    {
        public int B { get; } = (int)input.shape[0];
        public int C { get; } = (int)input.shape[1];
        public int H { get; } = (int)input.shape[2];
        public int W { get; } = (int)input.shape[3];
        public int O { get; } = (int)geometry.OutputChannels;
        public int K { get; } = (int)geometry.Kernel;
        public int P { get; } = (int)geometry.Padding;
        public int OutH { get; } = (int)gradientRows.shape[1];
        public int OutW { get; } = (int)gradientRows.shape[2];
    }
}
