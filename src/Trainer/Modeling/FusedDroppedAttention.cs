using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The attention of a training step with attention dropout, one head of one image at a time, forward and backward as
/// one custom autograd function on one CPU thread: <c>softmax(q k^T * scale)</c>, inverted dropout with the keep masks
/// of <see cref="DropoutMask"/> (one seed per head, the values drawn row by row and drawn again in the backward pass
/// instead of being kept), times v; the heads' results side by side in (B, N, C).
/// </summary>
/// <remarks>
/// Why: spelled out in libtorch (SelfAttention's head-by-head path) a cct_2 layer's attention is a dozen operations
/// forward and more backward, each a pass over memory, and MKL ran its batched 64 x 64 x 64 products at ~60% of its
/// large-matrix rate. Here a head's q, k^T and v are packed
/// into small contiguous blocks once per image, the products run in registers (<see cref="SmallGemm"/>), the scale,
/// softmax, mask and its gradient are single passes over rows that are in cache, and the gradients of q, k and v are
/// written straight into one (B, N, 3C) tensor. Only the softmax weights (B, H, N, N) are kept for the backward pass.
/// The same function as the head-by-head path up to float rounding, and the same masks for the same seeds.
/// Inputs: the qkv projection (B, N, 3C) (q, k, v blocks of C, head h at columns h*d..), optionally the values (B, N, C)
/// when an attention variant replaced them (then their gradient goes there and the projection's v block gets zeros).
/// </remarks>
internal sealed unsafe class FusedDroppedAttention : autograd.SingleTensorFunction<FusedDroppedAttention>
{
    /// <inheritdoc />
    public override string Name => nameof(FusedDroppedAttention);

    /// <summary>
    /// Whether <paramref name="projected"/> (B, N, 3C) and <paramref name="values"/> (null or (B, N, C)) can go through
    /// here with <paramref name="heads"/> heads: contiguous float32 on the CPU, a head dimension that is a multiple of 8,
    /// AVX2 and FMA.
    /// </summary>
    public static bool Applies(Tensor projected, Tensor? values, int heads)
    {
        if (!SmallGemm.IsSupported || projected.device_type != DeviceType.CPU || projected.dtype != ScalarType.Float32
            || projected.dim() != 3 || !projected.is_contiguous() || projected.shape[2] % (3L * heads) != 0
            || projected.numel() > int.MaxValue)
            return false;
        long c = projected.shape[2] / 3;
        if (c / heads % 8 != 0)
            return false;
        return values is null || (values.device_type == DeviceType.CPU && values.dtype == ScalarType.Float32 && values.is_contiguous()
            && values.shape.SequenceEqual(new[] { projected.shape[0], projected.shape[1], c }));
    }

    /// <summary>
    /// The attention of <paramref name="projected"/> with <paramref name="heads"/> heads, drop probability
    /// <paramref name="p"/> and one mask seed per head; <paramref name="values"/> replaces the projection's v block
    /// when not null.
    /// </summary>
    public static Tensor Apply(Tensor projected, Tensor? values, int heads, double p, ulong[] seeds)
    {
        if (!Applies(projected, values, heads))
            throw new ArgumentException($"The fused attention takes contiguous float32 CPU tensors (B, N, 3C) and (B, N, C) with a head dimension that is a multiple of 8; got {projected.dtype} {string.Join('x', projected.shape)} with {heads} heads.", nameof(projected));
        if (seeds.Length != heads)
            throw new ArgumentException($"One mask seed per head: {heads} heads, {seeds.Length} seeds.", nameof(seeds));
        if (p is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "A dropout probability is in [0, 1).");
        return apply(projected, values!, new Settings(heads, p, seeds));
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var projected = (Tensor)vars[0];
        var values = vars[1] as Tensor;
        var settings = (Settings)vars[2];
        var shape = new Shape(projected, settings.Heads);
        var output = empty(shape.B, shape.N, shape.C);
        var weights = empty(shape.B, settings.Heads, shape.N, shape.N);
        fixed (byte* qkv = projected.bytes, v = values is null ? default : values.bytes, o = output.bytes, w = weights.bytes)
            Forward(shape, settings, (float*)qkv, (float*)v, (float*)o, (float*)w);
        ctx.save_for_backward(values is null ? [projected, weights] : [projected, weights, values]);
        ctx.save_data(nameof(Settings), settings);
        return output;
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var settings = (Settings)ctx.get_data(nameof(Settings));
        var saved = ctx.get_saved_variables();
        using var projected = saved[0];
        using var weights = saved[1];
        using var values = saved.Count > 2 ? saved[2] : null;
        using var gradient = grad_output.contiguous();
        var shape = new Shape(projected, settings.Heads);
        var projectedGradient = empty(shape.B, shape.N, 3 * shape.C);
        var valuesGradient = values is null ? null : empty(shape.B, shape.N, shape.C);
        fixed (byte* qkv = projected.bytes, v = values is null ? default : values.bytes, w = weights.bytes, g = gradient.bytes,
            dqkv = projectedGradient.bytes, dv = valuesGradient is null ? default : valuesGradient.bytes)
            Backward(shape, settings, (float*)qkv, (float*)v, (float*)w, (float*)g, (float*)dqkv, (float*)dv);
        return [projectedGradient, valuesGradient!, null!];
    }

    private static void Forward(Shape s, Settings settings, float* qkv, float* values, float* output, float* weights)
    {
        int n = s.N, d = s.D, heads = settings.Heads, pitch = s.NPad;
        float scale = (float)(1 / Math.Sqrt(d));
        var masks = Streams(settings);
        using var buffer = new Scratch(heads * (2 * n * d + d * pitch) + n * pitch + n * n + pitch);
        float* q = buffer.Start, kt = q + heads * n * d, v = kt + heads * d * pitch, scores = v + heads * n * d, dropped = scores + n * pitch, mask = dropped + n * n;
        var valueRows = new Rows(s, qkv, values);
        for (int b = 0; b < s.B; b++)
        {
            float* row0 = qkv + (long)b * n * 3 * s.C;
            if (b + 1 < s.B)
            {
                // The next image's rows while this one computes: they come from memory at a few GB/s on one core.
                FloatVectors.Prefetch(row0 + n * 3 * s.C, n * 3 * s.C * sizeof(float));
                FloatVectors.Prefetch(weights + (b + 1L) * heads * n * n, (long)heads * n * n * sizeof(float));
            }
            PackHeads(row0, 3 * s.C, n, d, heads, q);
            PackHeads(valueRows.Image(b), valueRows.Pitch, n, d, heads, v);
            TransposeHeads(row0 + s.C, 3 * s.C, n, d, heads, kt, pitch);
            for (int h = 0; h < heads; h++)
            {
                SmallGemm.Multiply(q + h * n * d, d, kt + h * d * pitch, pitch, scores, pitch, n, pitch, d);
                float* w = weights + ((long)b * heads + h) * n * n;
                for (int r = 0; r < n; r++)
                {
                    masks[h].Take(new Span<float>(mask, n));
                    SoftmaxRow(scores + r * pitch, n, scale, w + r * n, mask, dropped + r * n);
                }
                SmallGemm.Multiply(dropped, n, v + h * n * d, d, output + (long)b * n * s.C + h * d, s.C, n, d, n);
            }
        }
    }

    private static void Backward(Shape s, Settings settings, float* qkv, float* values, float* weights, float* gradient, float* projectedGradient, float* valuesGradient)
    {
        int n = s.N, d = s.D, heads = settings.Heads, pitch = s.NPad;
        float scale = (float)(1 / Math.Sqrt(d));
        var masks = Streams(settings);
        using var buffer = new Scratch(heads * (3 * n * d + d * pitch) + n * pitch + 2 * n * n + pitch);
        float* q = buffer.Start, k = q + heads * n * d, vt = k + heads * n * d, go = vt + heads * d * pitch;
        float* droppedGradient = go + heads * n * d, dropped = droppedGradient + n * pitch, scoresGradient = dropped + n * n, mask = scoresGradient + n * n;
        var valueRows = new Rows(s, qkv, values);
        var valueGradientRows = new Rows(s, projectedGradient, valuesGradient);
        for (int b = 0; b < s.B; b++)
        {
            float* row0 = qkv + (long)b * n * 3 * s.C;
            float* gradientRow0 = projectedGradient + (long)b * n * 3 * s.C;
            if (b + 1 < s.B)
            {
                FloatVectors.Prefetch(row0 + n * 3 * s.C, n * 3 * s.C * sizeof(float));
                FloatVectors.Prefetch(weights + (b + 1L) * heads * n * n, (long)heads * n * n * sizeof(float));
                FloatVectors.Prefetch(gradient + (b + 1L) * n * s.C, n * s.C * sizeof(float));
            }
            PackHeads(row0, 3 * s.C, n, d, heads, q);
            PackHeads(row0 + s.C, 3 * s.C, n, d, heads, k);
            PackHeads(gradient + (long)b * n * s.C, s.C, n, d, heads, go);
            TransposeHeads(valueRows.Image(b), valueRows.Pitch, n, d, heads, vt, pitch);
            for (int h = 0; h < heads; h++)
            {
                // d(dropped) = dO v^T; the weights' gradient through the mask; then the softmax's, scaled.
                SmallGemm.Multiply(go + h * n * d, d, vt + h * d * pitch, pitch, droppedGradient, pitch, n, pitch, d);
                float* w = weights + ((long)b * heads + h) * n * n;
                for (int r = 0; r < n; r++)
                {
                    masks[h].Take(new Span<float>(mask, n));
                    SoftmaxGradientRow(w + r * n, mask, droppedGradient + r * pitch, n, scale, dropped + r * n, scoresGradient + r * n);
                }
                SmallGemm.MultiplyTransposedA(dropped, n, go + h * n * d, d, valueGradientRows.Image(b) + h * d, valueGradientRows.Pitch, n, d, n);
                SmallGemm.Multiply(scoresGradient, n, k + h * n * d, d, gradientRow0 + h * d, 3 * s.C, n, d, n);
                SmallGemm.MultiplyTransposedA(scoresGradient, n, q + h * n * d, d, gradientRow0 + s.C + h * d, 3 * s.C, n, d, n);
            }
            if (values is not null)
                for (int t = 0; t < n; t++)
                    new Span<float>(gradientRow0 + (long)t * 3 * s.C + 2 * s.C, s.C).Clear();
        }
    }

    private static DropoutMaskStream[] Streams(Settings settings)
    {
        var streams = new DropoutMaskStream[settings.Heads];
        for (int h = 0; h < settings.Heads; h++)
            streams[h] = new DropoutMaskStream(settings.Seeds[h], settings.P);
        return streams;
    }

    // Each head's (n x d) block of n rows of pitch `pitch`, into contiguous blocks one after another.
    private static void PackHeads(float* row0, int pitch, int n, int d, int heads, float* destination)
    {
        for (int t = 0; t < n; t++)
            for (int h = 0; h < heads; h++)
                Buffer.MemoryCopy(row0 + (long)t * pitch + h * d, destination + (h * n + t) * d, d * sizeof(float), d * sizeof(float));
    }

    // Each head's block transposed to (d x n), rows of `destinationPitch` (>= n, the columns past n zero).
    private static void TransposeHeads(float* row0, int pitch, int n, int d, int heads, float* destination, int destinationPitch)
    {
        int whole = n - n % 8;
        for (int h = 0; h < heads; h++)
        {
            float* block = row0 + h * d, target = destination + h * d * destinationPitch;
            for (int t = 0; t < whole; t += 8)
                for (int j = 0; j < d; j += 8)
                    FloatVectors.Transpose8x8(block + (long)t * pitch + j, pitch, target + j * destinationPitch + t, destinationPitch);
            for (int j = 0; j < d; j++)
            {
                for (int t = whole; t < n; t++)
                    target[j * destinationPitch + t] = block[(long)t * pitch + j];
                new Span<float>(target + j * destinationPitch + n, destinationPitch - n).Clear();
            }
        }
    }

    // weights = softmax(scores * scale) over the row's n columns; dropped = weights * mask.
    private static void SoftmaxRow(float* scores, int n, float scale, float* weights, float* mask, float* dropped)
    {
        int whole = n - n % 8, t;
        var largest = Vector256.Create(float.NegativeInfinity);
        for (t = 0; t < whole; t += 8)
            largest = Avx.Max(largest, Avx.LoadVector256(scores + t));
        float max = whole > 0 ? FloatVectors.Max(largest) : float.NegativeInfinity;
        for (; t < n; t++)
            max = Math.Max(max, scores[t]);
        var vectorScale = Vector256.Create(scale);
        var shift = Vector256.Create(max * scale);
        var sums = Vector256<float>.Zero;
        for (t = 0; t < whole; t += 8)
        {
            var e = FloatVectors.Exp(Fma.MultiplySubtract(Avx.LoadVector256(scores + t), vectorScale, shift));
            Avx.Store(weights + t, e);
            sums = Avx.Add(sums, e);
        }
        float sum = FloatVectors.Sum(sums);
        for (; t < n; t++)
        {
            weights[t] = MathF.Exp(scores[t] * scale - max * scale);
            sum += weights[t];
        }
        float inverse = 1 / sum;
        var vectorInverse = Vector256.Create(inverse);
        for (t = 0; t < whole; t += 8)
        {
            var weight = Avx.Multiply(Avx.LoadVector256(weights + t), vectorInverse);
            Avx.Store(weights + t, weight);
            Avx.Store(dropped + t, Avx.Multiply(weight, Avx.LoadVector256(mask + t)));
        }
        for (; t < n; t++)
        {
            weights[t] *= inverse;
            dropped[t] = weights[t] * mask[t];
        }
    }

    // From the weights' row, the mask and d(dropped): dropped again, and d(scores) = scale * w * (g - sum(g * w)) with
    // g = d(dropped) * mask, the gradient of softmax(scores * scale).
    private static void SoftmaxGradientRow(float* weights, float* mask, float* droppedGradient, int n, float scale, float* dropped, float* scoresGradient)
    {
        int whole = n - n % 8, t;
        var dots = Vector256<float>.Zero;
        for (t = 0; t < whole; t += 8)
        {
            var w = Avx.LoadVector256(weights + t);
            var m = Avx.LoadVector256(mask + t);
            var g = Avx.Multiply(Avx.LoadVector256(droppedGradient + t), m);
            Avx.Store(droppedGradient + t, g);
            Avx.Store(dropped + t, Avx.Multiply(w, m));
            dots = Fma.MultiplyAdd(g, w, dots);
        }
        float dot = FloatVectors.Sum(dots);
        for (; t < n; t++)
        {
            droppedGradient[t] *= mask[t];
            dropped[t] = weights[t] * mask[t];
            dot += droppedGradient[t] * weights[t];
        }
        var vectorDot = Vector256.Create(dot);
        var vectorScale = Vector256.Create(scale);
        for (t = 0; t < whole; t += 8)
        {
            var difference = Avx.Subtract(Avx.LoadVector256(droppedGradient + t), vectorDot);
            Avx.Store(scoresGradient + t, Avx.Multiply(Avx.Multiply(Avx.LoadVector256(weights + t), difference), vectorScale));
        }
        for (; t < n; t++)
            scoresGradient[t] = weights[t] * (droppedGradient[t] - dot) * scale;
    }

    private sealed record Settings(int Heads, double P, ulong[] Seeds);

    // Where the values' rows (or their gradient's) are: the v block of the (B, N, 3C) projection, or the (B, N, C)
    // tensor that replaced them.
    private readonly struct Rows(Shape s, float* projection, float* replacement)
    {
        private readonly float* first = replacement is null ? projection + 2 * s.C : replacement;
        private readonly int tokens = s.N;

        public int Pitch { get; } = replacement is null ? 3 * s.C : s.C;

        public float* Image(int b) => first + (long)b * tokens * Pitch;
    }

    // Working memory of one call, pooled and pinned: a new array per call would be zeroed, and from cct_7's size on it
    // would land on the large-object heap.
    private readonly struct Scratch : IDisposable
    {
        private readonly float[] array;
        private readonly GCHandle pin;

        public Scratch(int length)
        {
            array = ArrayPool<float>.Shared.Rent(length);
            pin = GCHandle.Alloc(array, GCHandleType.Pinned);
            Start = (float*)pin.AddrOfPinnedObject();
        }

        public float* Start { get; }

        public void Dispose()
        {
            pin.Free();
            ArrayPool<float>.Shared.Return(array);
        }
    }

    private readonly struct Shape
    {
        public Shape(Tensor projected, int heads)
        {
            B = (int)projected.shape[0];
            N = (int)projected.shape[1];
            C = (int)(projected.shape[2] / 3);
            D = C / heads;
            NPad = (N + 7) & ~7;
        }

        public int B { get; }
        public int N { get; }
        public int C { get; }
        public int D { get; }
        // Rows of k^T and of the scores are padded to a multiple of 8 columns for the products.
        public int NPad { get; }
    }
}
