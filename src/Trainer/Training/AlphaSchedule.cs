using System.Globalization;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// One mixing weight as a function of training time: alpha of <c>V' = beta * V + alpha * softmax_over_tokens(V)</c>,
/// or beta when it is scheduled on its own (<see cref="MixingSchedule.Of(AlphaSchedule, AlphaSchedule)"/>).
/// Combine two into an <see cref="IMixingSchedule"/> with <see cref="MixingSchedule.Remix(AlphaSchedule)"/> or
/// <see cref="MixingSchedule.Of(AlphaSchedule, AlphaSchedule)"/>.
/// </summary>
/// <remarks>
/// Ramps counted in epochs change at epoch boundaries (the value is the same for every step of an epoch, as the
/// original's per-epoch learning-rate schedule is); ramps counted in steps change at every step. A ramp holds
/// <c>from</c> during its delay, moves to <c>to</c>, and reaches <c>to</c> exactly at epoch (or step)
/// <c>delay + length</c> (0-based), then stays there.
/// </remarks>
public abstract class AlphaSchedule
{
    private protected AlphaSchedule() { }

    /// <summary>The value for the step about to run.</summary>
    /// <param name="epoch">0-based index of the running epoch.</param>
    /// <param name="step">0-based index of the optimisation step over the whole run.</param>
    public abstract double At(int epoch, long step);

    /// <summary>The value at the very first step.</summary>
    public abstract double Start { get; }

    /// <summary>The value the schedule settles on once its ramp is over.</summary>
    public abstract double End { get; }

    /// <summary>The same value at every step.</summary>
    public static AlphaSchedule Constant(double value)
    {
        CheckFinite(value, nameof(value));
        return new ConstantAlpha(value);
    }

    /// <summary>Linear ramp from <paramref name="from"/> to <paramref name="to"/> over <paramref name="epochs"/> epochs, after <paramref name="delayEpochs"/> epochs at <paramref name="from"/>.</summary>
    /// <param name="from">Value during the delay and at the ramp's first epoch.</param>
    /// <param name="to">Value from epoch <c>delayEpochs + epochs</c> (0-based) on.</param>
    /// <param name="epochs">Length of the ramp in epochs (at least 1).</param>
    /// <param name="delayEpochs">Epochs held at <paramref name="from"/> before the ramp starts.</param>
    public static AlphaSchedule Linear(double from, double to, int epochs, int delayEpochs = 0) =>
        new Ramp(from, to, CheckLength(epochs, nameof(epochs)), CheckDelay(delayEpochs, nameof(delayEpochs)), RampUnit.Epochs, RampShape.Linear);

    /// <summary>Linear ramp counted in optimisation steps: reaches <paramref name="to"/> exactly at step <c>delaySteps + steps</c> (0-based).</summary>
    /// <param name="from">Value during the delay and at the ramp's first step.</param>
    /// <param name="to">Value from step <c>delaySteps + steps</c> on.</param>
    /// <param name="steps">Length of the ramp in steps (at least 1).</param>
    /// <param name="delaySteps">Steps held at <paramref name="from"/> before the ramp starts.</param>
    public static AlphaSchedule LinearSteps(double from, double to, long steps, long delaySteps = 0) =>
        new Ramp(from, to, CheckLength(steps, nameof(steps)), CheckDelay(delaySteps, nameof(delaySteps)), RampUnit.Steps, RampShape.Linear);

    /// <summary>Half-cosine ramp (slow start, slow finish) over epochs; otherwise like <see cref="Linear"/>.</summary>
    /// <param name="from">Value during the delay and at the ramp's first epoch.</param>
    /// <param name="to">Value from epoch <c>delayEpochs + epochs</c> (0-based) on.</param>
    /// <param name="epochs">Length of the ramp in epochs (at least 1).</param>
    /// <param name="delayEpochs">Epochs held at <paramref name="from"/> before the ramp starts.</param>
    public static AlphaSchedule Cosine(double from, double to, int epochs, int delayEpochs = 0) =>
        new Ramp(from, to, CheckLength(epochs, nameof(epochs)), CheckDelay(delayEpochs, nameof(delayEpochs)), RampUnit.Epochs, RampShape.Cosine);

    /// <summary>Half-cosine ramp counted in steps; otherwise like <see cref="LinearSteps"/>.</summary>
    /// <param name="from">Value during the delay and at the ramp's first step.</param>
    /// <param name="to">Value from step <c>delaySteps + steps</c> on.</param>
    /// <param name="steps">Length of the ramp in steps (at least 1).</param>
    /// <param name="delaySteps">Steps held at <paramref name="from"/> before the ramp starts.</param>
    public static AlphaSchedule CosineSteps(double from, double to, long steps, long delaySteps = 0) =>
        new Ramp(from, to, CheckLength(steps, nameof(steps)), CheckDelay(delaySteps, nameof(delaySteps)), RampUnit.Steps, RampShape.Cosine);

    /// <summary>A constant schedule, so that a plain number can stand where a schedule is expected.</summary>
    public static implicit operator AlphaSchedule(double value) => Constant(value);

    /// <summary>This schedule with every value v replaced by <c>1 - v</c> (how a remix derives beta from alpha).</summary>
    public AlphaSchedule OneMinus() => new Complement(this);

    private static long CheckLength(long length, string name) =>
        length >= 1 ? length : throw new ArgumentOutOfRangeException(name, length, "A ramp needs a length of at least 1.");

    private static long CheckDelay(long delay, string name) =>
        delay >= 0 ? delay : throw new ArgumentOutOfRangeException(name, delay, "A delay cannot be negative.");

    private static void CheckFinite(double value, string name)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(name, value, "A mixing weight must be finite.");
    }

    private protected static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    private enum RampUnit { Epochs, Steps }

    private enum RampShape { Linear, Cosine }

    private sealed class ConstantAlpha(double value) : AlphaSchedule
    {
        public override double At(int epoch, long step) => value;
        public override double Start => value;
        public override double End => value;
        public override string ToString() => Text(value);
    }

    private sealed class Ramp : AlphaSchedule
    {
        private readonly double from, to;
        private readonly long length, delay;
        private readonly RampUnit unit;
        private readonly RampShape shape;

        public Ramp(double from, double to, long length, long delay, RampUnit unit, RampShape shape)
        {
            CheckFinite(from, nameof(from));
            CheckFinite(to, nameof(to));
            (this.from, this.to, this.length, this.delay, this.unit, this.shape) = (from, to, length, delay, unit, shape);
        }

        public override double Start => from;
        public override double End => to;

        public override double At(int epoch, long step)
        {
            long t = (unit == RampUnit.Epochs ? epoch : step) - delay;
            if (t <= 0)
                return from;
            if (t >= length)
                return to; // exactly, not from + (to - from) * 1 with its rounding
            double progress = (double)t / length;
            if (shape == RampShape.Cosine)
                progress = 0.5 * (1 - Math.Cos(Math.PI * progress));
            return from + (to - from) * progress;
        }

        public override string ToString()
        {
            string name = shape == RampShape.Linear ? "linear" : "cosine";
            string units = unit == RampUnit.Epochs ? "epochs" : "steps";
            string after = delay > 0 ? $" after {delay} {units}" : "";
            return $"{name} {Text(from)}->{Text(to)} over {length} {units}{after}";
        }
    }

    private sealed class Complement(AlphaSchedule inner) : AlphaSchedule
    {
        public override double At(int epoch, long step) => 1 - inner.At(epoch, step);
        public override double Start => 1 - inner.Start;
        public override double End => 1 - inner.End;
        public override string ToString() => $"1 - ({inner})";
    }
}
