using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

public class AlphaScheduleTests
{
    [Fact]
    public void EpochRampHoldsDuringTheDelayAndReachesItsEndAtExactlyDelayPlusLength()
    {
        var ramp = AlphaSchedule.Linear(0.2, 0.7, epochs: 5, delayEpochs: 2);
        // The step index is irrelevant to an epoch ramp: the value is constant within an epoch.
        Assert.Equal([0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.7], Enumerable.Range(0, 9).Select(e => Math.Round(ramp.At(e, step: 1000L * e + 7), 12)));
        Assert.NotEqual(0.7, ramp.At(6, 0));
        Assert.Equal(0.7, ramp.At(7, 0)); // exactly, not within rounding
        Assert.Equal((0.2, 0.7), (ramp.Start, ramp.End));
    }

    [Fact]
    public void StepRampReachesItsEndAtExactlyDelayPlusLength()
    {
        var ramp = AlphaSchedule.LinearSteps(0, 1, steps: 10, delaySteps: 3);
        Assert.Equal(0, ramp.At(0, 3));
        Assert.Equal(0.1, ramp.At(0, 4), 12);
        Assert.Equal(0.9, ramp.At(5, 12), 12);
        Assert.True(ramp.At(5, 12) < 1);
        Assert.Equal(1.0, ramp.At(0, 13));
        Assert.Equal(1.0, ramp.At(99, 1_000_000));
    }

    [Fact]
    public void CosineRampIsSlowAtBothEndsAndHalfwayInTheMiddle()
    {
        var ramp = AlphaSchedule.CosineSteps(0, 1, steps: 100);
        Assert.Equal(0.5, ramp.At(0, 50), 12);
        Assert.Equal(0.5 * (1 - Math.Cos(Math.PI * 0.1)), ramp.At(0, 10), 12);
        Assert.True(ramp.At(0, 10) < 0.1 && ramp.At(0, 90) > 0.9);
        Assert.Equal(1.0, ramp.At(0, 100));
        var epochs = AlphaSchedule.Cosine(1, 0, epochs: 4, delayEpochs: 1);
        Assert.Equal([1.0, 1.0, 0.5, 0.0], new[] { 0, 1, 3, 5 }.Select(e => Math.Round(epochs.At(e, 0), 12)));
    }

    [Fact]
    public void RemixMakesBetaOneMinusAlphaAndIndependentBetaFollowsItsOwnSchedule()
    {
        var remix = MixingSchedule.Remix(AlphaSchedule.LinearSteps(0, 0.8, steps: 4));
        Assert.Equal((0.0, 1.0), remix.At(0, 0));
        Assert.Equal((0.4, 0.6), remix.At(0, 2));
        Assert.Equal((0.8, 1 - 0.8), remix.At(3, 4));

        var independent = MixingSchedule.Of(AlphaSchedule.Linear(0, 1, epochs: 2), beta: AlphaSchedule.Linear(1, 2, epochs: 4));
        Assert.Equal((0.5, 1.25), independent.At(1, 0));
        Assert.Equal((1.0, 1.5), independent.At(2, 0));
        Assert.Equal((1.0, 1.0), MixingSchedule.Of(1, 1).At(7, 7)); // plain numbers convert to constant schedules
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaSchedule.Linear(0, 1, epochs: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaSchedule.LinearSteps(0, 1, steps: 5, delaySteps: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaSchedule.Constant(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaSchedule.Cosine(0, double.PositiveInfinity, epochs: 3));
    }

    [Fact]
    public void HistoryKeepsPerStepMixingWithinItsResolution()
    {
        var history = new TrainingHistory();
        var ramp = MixingSchedule.Remix(AlphaSchedule.LinearSteps(0, 1, steps: 100_000, delaySteps: 10));
        for (long step = 0; step < 200_000; step++)
        {
            var (a, b) = ramp.At(0, step);
            history.RecordMixing(step, a, b);
        }
        var points = history.MixingSteps;
        Assert.InRange(points.Count, 900, 1100); // one point per 1e-3 of travel, not one per step
        Assert.Equal(new MixingPoint(0, 0, 1), points[0]);
        Assert.Equal(0.001, points[1].Alpha, 9);
        Assert.Equal(110, points[1].Step); // the first step that moved alpha by 1e-3
        // Holding each kept point until the next stays within the resolution of the schedule.
        for (long step = 0; step < 200_000; step += 997)
        {
            var held = points.Last(p => p.Step <= step);
            Assert.True(Math.Abs(held.Alpha - ramp.At(0, step).Alpha) < TrainingHistory.MixingResolution, $"step {step}");
        }
        // JSON carries the trace; CSV (per epoch) does not need to.
        Assert.Equal(points, TrainingHistory.FromJson(history.ToJson()).MixingSteps);
    }
}
