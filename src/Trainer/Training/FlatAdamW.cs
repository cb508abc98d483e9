using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// TorchSharp's AdamW with every parameter, gradient and moment of a parameter group stored in one flat buffer, so a
/// step is nine elementwise kernels per group instead of nine per parameter (PyTorch's multi-tensor and fused AdamW
/// buy the same; TorchSharp 0.107 has neither). Same formula, options and state as <see cref="AdamW"/>: its
/// <c>save_state_dict</c> files are interchangeable with those of the per-parameter optimizer.
/// </summary>
/// <remarks>
/// Construction moves each trainable parameter's storage into the flat buffer (<c>set_</c>, values kept) and gives
/// it a gradient that is a view of the flat gradient buffer, which backward accumulates into in place. The network
/// must therefore be on its final device before, and must not be moved while this optimizer is in use. Every
/// parameter is stepped, also one whose gradient stayed zero (the per-parameter form skips only missing gradients).
/// </remarks>
internal sealed class FlatAdamW : AdamW
{
    private readonly Tensor values;
    private readonly Tensor gradients;
    private readonly Tensor firstMoments;
    private readonly Tensor secondMoments;
    private readonly Segment[] segments;

    /// <param name="groups">Parameter groups, as for <see cref="AdamW"/>; every parameter float32 and on one device.</param>
    /// <param name="lr">Default learning rate.</param>
    /// <param name="beta1">Default first-moment decay.</param>
    /// <param name="beta2">Default second-moment decay.</param>
    /// <param name="eps">Default denominator epsilon.</param>
    /// <param name="weightDecay">Default decoupled weight decay.</param>
    public FlatAdamW(IReadOnlyList<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: false)
    {
        var all = groups.SelectMany(g => g.Parameters).ToArray();
        if (all.Length == 0)
            throw new ArgumentException("AdamW needs at least one parameter.", nameof(groups));
        var device = all[0].device;
        foreach (var p in all)
        {
            if (p.dtype != ScalarType.Float32 || p.device_type != device.type || p.device_index != device.index)
                throw new ArgumentException(
                    $"A flat AdamW keeps all parameters in one float32 buffer on one device; a parameter is {p.dtype} on {p.device}, the first float32 on {device}.",
                    nameof(groups));
        }
        long total = all.Sum(p => p.numel());
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        values = empty(total, ScalarType.Float32, device).DetachFromDisposeScope();
        gradients = zeros(total, ScalarType.Float32, device).DetachFromDisposeScope();
        firstMoments = zeros(total, ScalarType.Float32, device).DetachFromDisposeScope();
        secondMoments = zeros(total, ScalarType.Float32, device).DetachFromDisposeScope();
        var list = new List<Segment>();
        long offset = 0;
        foreach (var group in groups)
        {
            long start = offset;
            var states = new List<State>();
            foreach (var p in group.Parameters)
            {
                long n = p.numel();
                var value = values.narrow(0, offset, n).view(p.shape);
                value.copy_(p);
                p.set_(value);
                p.grad = gradients.narrow(0, offset, n).view(p.shape);
                var state = (State)_state[p.Handle];
                state.exp_avg = Adopt(state.exp_avg, firstMoments.narrow(0, offset, n).view(p.shape));
                state.exp_avg_sq = Adopt(state.exp_avg_sq, secondMoments.narrow(0, offset, n).view(p.shape));
                states.Add(state);
                offset += n;
            }
            if (offset > start)
                list.Add(new Segment(group, states.ToArray(), values.narrow(0, start, offset - start).DetachFromDisposeScope(),
                    gradients.narrow(0, start, offset - start).DetachFromDisposeScope(), firstMoments.narrow(0, start, offset - start).DetachFromDisposeScope(),
                    secondMoments.narrow(0, start, offset - start).DetachFromDisposeScope(),
                    empty(offset - start, dtype: values.dtype, device: values.device).DetachFromDisposeScope()));
        }
        segments = list.ToArray();
    }

    /// <summary>Number of values in the flat buffer (all trainable parameters).</summary>
    public long Count => values.numel();

    /// <summary>The flat buffer of every parameter (for tests).</summary>
    internal Tensor Values => values;

    /// <summary>The flat buffer of every gradient.</summary>
    internal Tensor Gradients => gradients;

    /// <summary>One step of AdamW per group, on the group's slice of the buffers, with the per-parameter form's operations.</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using var enableGrad = enable_grad();
            loss = closure();
        }
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var s in segments)
        {
            var options = (Options)s.Group.Options;
            double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
            double weightDecay = options.weight_decay!.Value, lr = s.Group.LearningRate;
            foreach (var state in s.States)
                state.step += 1;
            long step = s.States[0].step;
            double biasCorrection1 = 1 - Math.Pow(beta1, step);
            double biasCorrection2 = 1 - Math.Pow(beta2, step);
            s.Values.mul_(1 - lr * weightDecay);
            s.FirstMoments.mul_(beta1).add_(s.Gradients, alpha: 1 - beta1);
            s.SecondMoments.mul_(beta2).addcmul_(s.Gradients, s.Gradients, value: 1 - beta2);
            // In a buffer of its own, so a step allocates nothing: with two flat-sized temporaries per step the memory
            // benchmark's peak grew 7-11% over 10 epochs, 2-8% without them (1-6% with the per-parameter AdamW).
            var denominator = s.Denominator.copy_(s.SecondMoments).sqrt_().div_(Math.Sqrt(biasCorrection2)).add_(eps);
            s.Values.addcdiv_(s.FirstMoments, denominator, value: -(lr / biasCorrection1));
        }
        return loss!;
    }

    /// <summary>Zeroes every gradient with one kernel (the gradients stay, as views of the flat buffer).</summary>
    public override void zero_grad()
    {
        using var noGrad = no_grad();
        gradients.zero_();
    }

    /// <summary>
    /// Scales all gradients so that their global L2 norm is at most <paramref name="maxNorm"/>, as
    /// <c>clip_grad_norm_</c> does, with one norm over the flat buffer; returns the norm before clipping (on the device).
    /// </summary>
    public Tensor ClipGradientNorm(double maxNorm)
    {
        using var noGrad = no_grad();
        var norm = gradients.norm();
        using (var scope = NewDisposeScope())
            gradients.mul_((maxNorm / (norm + 1e-6)).clamp_max(1.0));
        return norm;
    }

    private static Tensor Adopt(Tensor old, Tensor view)
    {
        view.copy_(old);
        old.Dispose();
        return view.DetachFromDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing)
            return;
        foreach (var s in segments)
            s.Dispose();
        values.Dispose();
        gradients.Dispose();
        firstMoments.Dispose();
        secondMoments.Dispose();
    }

    private sealed record Segment(ParamGroup Group, State[] States, Tensor Values, Tensor Gradients, Tensor FirstMoments, Tensor SecondMoments, Tensor Denominator) : IDisposable
    {
        public void Dispose()
        {
            Values.Dispose();
            Gradients.Dispose();
            FirstMoments.Dispose();
            SecondMoments.Dispose();
            Denominator.Dispose();
        }
    }
}
