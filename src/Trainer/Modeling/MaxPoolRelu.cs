using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The tokenizer's <c>ReLU(MaxPool2d(3, stride 2, padding 1))</c> on a channels-last float32 CPU tensor, forward and
/// backward in one vectorised pass each: the same values and gradients as libtorch's two operations (the first maximum
/// of a window in row-major order takes the gradient, and none passes where the maximum is not above 0).
/// </summary>
/// <remarks>
/// Why: libtorch's max-pool writes a 64-bit index per output and its backward zero-fills the whole input gradient
/// before scattering into it; here the forward keeps a byte per output (the window position, or none where ReLU cuts),
/// and the backward gathers each input's gradient from the at most four windows that hold it, writing it once.
/// For cct_2's first block (32 x 64 x 32 x 32 per half-batch, one thread) forward and backward took ~4.5 ms against
/// ~6.4 ms for libtorch's max-pool and ReLU. It runs on the calling thread only, so the tokenizer uses it where a
/// training step runs on one intra-op thread per half-batch.
/// </remarks>
internal sealed class MaxPoolRelu : autograd.SingleTensorFunction<MaxPoolRelu>
{
    private const int Lanes = 8;
    private const byte NoGradient = 255;

    /// <inheritdoc />
    public override string Name => nameof(MaxPoolRelu);

    /// <summary>Whether <paramref name="x"/> (N, C, H, W) can go through here: float32 on the CPU, channels-last, C a multiple of 8.</summary>
    public static bool Applies(Tensor x) =>
        x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32 && x.dim() == 4 && x.shape[1] % Lanes == 0
        && x.permute(0, 2, 3, 1).is_contiguous() && x.numel() <= int.MaxValue / sizeof(float);

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        if (!Applies(x))
            throw new ArgumentException($"MaxPoolRelu takes a channels-last float32 CPU tensor with a multiple of {Lanes} channels; got {x.dtype} {string.Join('x', x.shape)}.", nameof(vars));
        var size = new Size(x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        using var input = x.permute(0, 2, 3, 1);
        var pooled = empty(size.N, size.PooledH, size.PooledW, size.C);
        var windows = empty([size.N, size.PooledH, size.PooledW, size.C], ScalarType.Byte);
        Forward(Floats(input), Floats(pooled), windows.bytes, size);
        ctx.save_for_backward([windows]);
        ctx.save_data(nameof(Size), size);
        return pooled.permute(0, 3, 1, 2);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var size = (Size)ctx.get_data(nameof(Size));
        using var windows = ctx.get_saved_variables()[0];
        using var gradient = grad_output.permute(0, 2, 3, 1).contiguous();
        var inputGradient = empty(size.N, size.H, size.W, size.C);
        Backward(Floats(gradient), windows.bytes, Floats(inputGradient), size);
        return [inputGradient.permute(0, 3, 1, 2)];
    }

    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    // Output (i, j) covers input rows 2i-1..2i+1 and columns 2j-1..2j+1; a window position is 3 * row + column in it.
    private static unsafe void Forward(Span<float> input, Span<float> pooled, Span<byte> windows, Size s)
    {
        long* offsets = stackalloc long[9];
        int* positions = stackalloc int[9];
        var none = Vector256.Create((int)NoGradient);
        fixed (float* x = input, y = pooled)
        fixed (byte* w = windows)
        {
            for (long b = 0; b < s.N; b++)
                for (long i = 0; i < s.PooledH; i++)
                    for (long j = 0; j < s.PooledW; j++)
                    {
                        int count = 0;
                        for (int dr = 0; dr < 3; dr++)
                        {
                            long r = 2 * i - 1 + dr;
                            for (int dc = 0; dc < 3 && (ulong)r < (ulong)s.H; dc++)
                            {
                                long c = 2 * j - 1 + dc;
                                if ((ulong)c >= (ulong)s.W)
                                    continue;
                                offsets[count] = ((b * s.H + r) * s.W + c) * s.C;
                                positions[count++] = 3 * dr + dc;
                            }
                        }
                        long o = ((b * s.PooledH + i) * s.PooledW + j) * s.C;
                        for (long ch = 0; ch < s.C; ch += Lanes)
                        {
                            var best = Vector256.Load(x + offsets[0] + ch);
                            var position = Vector256.Create(positions[0]);
                            for (int t = 1; t < count; t++)
                            {
                                var v = Vector256.Load(x + offsets[t] + ch);
                                // Strictly greater: a tie keeps the earlier position, as libtorch does.
                                var greater = Vector256.GreaterThan(v, best);
                                best = Vector256.ConditionalSelect(greater, v, best);
                                position = Vector256.ConditionalSelect(greater.AsInt32(), Vector256.Create(positions[t]), position);
                            }
                            var positive = Vector256.GreaterThan(best, Vector256<float>.Zero);
                            Vector256.Store(best & positive, y + o + ch);
                            position = Vector256.ConditionalSelect(positive.AsInt32(), position, none);
                            // Eight 32-bit positions (0..8 or 255) to eight bytes: the packs work per 128-bit half.
                            var shorts = Avx2.PackSignedSaturate(position, position);
                            var bytes = Avx2.PackUnsignedSaturate(shorts, shorts).AsInt32();
                            *(int*)(w + o + ch) = bytes.GetElement(0);
                            *(int*)(w + o + ch + 4) = bytes.GetElement(4);
                        }
                    }
        }
    }

    // Input (r, c) lies in the windows of output rows r/2 and r/2 + 1 and columns c/2 and c/2 + 1, where in range.
    private static unsafe void Backward(Span<float> pooledGradient, Span<byte> windows, Span<float> inputGradient, Size s)
    {
        long* offsets = stackalloc long[4];
        int* positions = stackalloc int[4];
        fixed (float* g = pooledGradient, gx = inputGradient)
        fixed (byte* w = windows)
        {
            for (long b = 0; b < s.N; b++)
                for (long r = 0; r < s.H; r++)
                    for (long c = 0; c < s.W; c++)
                    {
                        int count = 0;
                        for (long i = r / 2; i <= r / 2 + 1 && i < s.PooledH; i++)
                        {
                            long dr = r + 1 - 2 * i;
                            for (long j = c / 2; j <= c / 2 + 1 && j < s.PooledW && dr is >= 0 and <= 2; j++)
                            {
                                long dc = c + 1 - 2 * j;
                                if (dc is < 0 or > 2)
                                    continue;
                                offsets[count] = ((b * s.PooledH + i) * s.PooledW + j) * s.C;
                                positions[count++] = (int)(3 * dr + dc);
                            }
                        }
                        float* destination = gx + ((b * s.H + r) * s.W + c) * s.C;
                        for (long ch = 0; ch < s.C; ch += Lanes)
                        {
                            var sum = Vector256<float>.Zero;
                            for (int t = 0; t < count; t++)
                            {
                                var held = Vector256.Equals(Avx2.ConvertToVector256Int32(w + offsets[t] + ch), Vector256.Create(positions[t]));
                                sum += Vector256.Load(g + offsets[t] + ch) & held.AsSingle();
                            }
                            Vector256.Store(sum, destination + ch);
                        }
                    }
        }
    }

    private sealed record Size(long N, long C, long H, long W)
    {
        public long PooledH => (H - 1) / 2 + 1;
        public long PooledW => (W - 1) / 2 + 1;
    }
}
