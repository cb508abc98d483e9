using System.Text.Json;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class TrainingSettingsTests
{
    [Fact]
    public void SettingsRoundTripThroughJsonAsPlainData()
    {
        // Recipes will be tables of settings: everything but the code hook must survive serialisation.
        var settings = new TrainingSettings
        {
            Epochs = 7, BatchSize = 3, LearningRate = 1e-3, GradientClipNorm = 1.5, RandomCropPadding = 4, HorizontalFlip = true,
            Alpha = 0.5, Normalization = PixelNormalization.Cifar10, MixingSchedule = MixingSchedule.Constant(1, 0),
        };
        var back = JsonSerializer.Deserialize<TrainingSettings>(JsonSerializer.Serialize(settings))!;
        Assert.Null(back.MixingSchedule);
        Assert.Equal(PixelNormalization.Cifar10.Mean, back.Normalization!.Mean);
        Assert.Equal(PixelNormalization.Cifar10.Std, back.Normalization.Std);
        Assert.Equal(PixelNormalization.Cifar10.Multipliers, back.Normalization.Multipliers);
        Assert.Equal(settings with { Normalization = back.Normalization, MixingSchedule = null }, back);
    }

    [Fact]
    public void DefaultsAreTheLegacyRecipesAndValidate()
    {
        var d = new TrainingSettings();
        d.Validate();
        Assert.Equal((200, 128, 5e-4, 3e-2, 5.0, 0.1), (d.Epochs, d.BatchSize, d.LearningRate, d.WeightDecay, d.WarmupEpochs, d.LabelSmoothing));
        var e = Assert.Throws<ArgumentException>(() => (d with { MinLearningRate = 1 }).Validate());
        Assert.Contains("MinLearningRate", e.Message);
        Assert.Throws<ArgumentException>(() => (d with { LabelSmoothing = 1 }).Validate());
    }
}
