using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class WarmupCosineScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenFollowsTheCosineToTheFloorAtTheLastStep()
    {
        var schedule = new WarmupCosineSchedule(peak: 1e-3, warmupStart: 1e-5, floor: 1e-6, warmupSteps: 4, totalSteps: 14);
        Assert.Equal(1e-5, schedule.At(0));
        Assert.Equal(1e-5 + (1e-3 - 1e-5) * 1 / 4, schedule.At(1));
        Assert.Equal(1e-5 + (1e-3 - 1e-5) * 3 / 4, schedule.At(3));
        Assert.Equal(1e-3, schedule.At(4)); // first step after the warmup: the peak
        // Steps 4..13 span the half cosine: progress (s - 4) / 9.
        Assert.Equal(1e-6 + 0.5 * (1e-3 - 1e-6) * (1 + Math.Cos(Math.PI * 5 / 9)), schedule.At(9));
        Assert.Equal(1e-6, schedule.At(13)); // cos(pi) = -1 exactly: the last step is at the floor
        Assert.Equal(1e-6, schedule.At(100));
        for (long s = 1; s < 4; s++)
            Assert.True(schedule.At(s) > schedule.At(s - 1));
        for (long s = 5; s < 14; s++)
            Assert.True(schedule.At(s) < schedule.At(s - 1));
    }

    [Fact]
    public void SettingsGiveStepsFromEpochs()
    {
        var settings = new TrainingSettings { Epochs = 10, WarmupEpochs = 2.5, LearningRate = 5e-4, WarmupStartLearningRate = 1e-5, MinLearningRate = 1e-5 };
        var schedule = WarmupCosineSchedule.For(settings, stepsPerEpoch: 3);
        Assert.Equal(30, schedule.TotalSteps);
        Assert.Equal(8, schedule.WarmupSteps); // 7.5 rounds away from zero
        Assert.Equal(5e-4, schedule.At(8));
        Assert.Equal(1e-5, schedule.At(29));
    }

    [Fact]
    public void WithoutWarmupTheFirstStepIsAtThePeak()
    {
        var schedule = new WarmupCosineSchedule(peak: 0.1, warmupStart: 0, floor: 0.01, warmupSteps: 0, totalSteps: 3);
        Assert.Equal(0.1, schedule.At(0));
        Assert.Equal(0.01 + 0.5 * (0.1 - 0.01) * (1 + Math.Cos(Math.PI / 2)), schedule.At(1));
        Assert.Equal(0.01, schedule.At(2));
        // A warmup as long as the run leaves the last step for the decay.
        var tooLong = new WarmupCosineSchedule(peak: 0.1, warmupStart: 0, floor: 0.01, warmupSteps: 10, totalSteps: 5);
        Assert.Equal(4, tooLong.WarmupSteps);
        Assert.Equal(0.1 * 2 / 4, tooLong.At(2));
    }
}
