namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Learning rate per optimisation step: linear warmup from a start rate to the peak, then half a cosine
/// from the peak down to a floor that the last step reaches (the original's timm recipe, stepped per
/// iteration rather than per epoch).
/// </summary>
internal sealed class WarmupCosineSchedule
{
    /// <param name="peak">Rate at the end of the warmup (the first step after it).</param>
    /// <param name="warmupStart">Rate of step 0 when there is a warmup.</param>
    /// <param name="floor">Rate of the last step.</param>
    /// <param name="warmupSteps">Steps 0..warmupSteps-1 warm up.</param>
    /// <param name="totalSteps">Steps in the whole run.</param>
    public WarmupCosineSchedule(double peak, double warmupStart, double floor, long warmupSteps, long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        Peak = peak;
        WarmupStart = warmupStart;
        Floor = floor;
        // A warmup that would swallow the whole run keeps at least the last step for the decay.
        WarmupSteps = Math.Min(warmupSteps, totalSteps - 1);
        TotalSteps = totalSteps;
    }

    /// <summary>Builds the schedule of <paramref name="settings"/> for epochs of <paramref name="stepsPerEpoch"/> steps.</summary>
    public static WarmupCosineSchedule For(TrainingSettings settings, long stepsPerEpoch)
    {
        long total = settings.Epochs * stepsPerEpoch;
        long warmup = (long)Math.Round(settings.WarmupEpochs * stepsPerEpoch, MidpointRounding.AwayFromZero);
        return new WarmupCosineSchedule(settings.LearningRate, settings.WarmupStartLearningRate, settings.MinLearningRate, warmup, total);
    }

    public double Peak { get; }
    public double WarmupStart { get; }
    public double Floor { get; }
    public long WarmupSteps { get; }
    public long TotalSteps { get; }

    /// <summary>The rate for 0-based <paramref name="step"/>; steps past the end stay at the floor.</summary>
    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step < WarmupSteps)
            return WarmupStart + (Peak - WarmupStart) * step / WarmupSteps;
        long decaySteps = TotalSteps - 1 - WarmupSteps;
        if (decaySteps <= 0)
            return step >= TotalSteps ? Floor : Peak; // a one-step run trains at the peak
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return Floor + 0.5 * (Peak - Floor) * (1 + Math.Cos(Math.PI * progress));
    }
}
