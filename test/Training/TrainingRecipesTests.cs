using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class TrainingRecipesTests
{
    [Fact]
    public void EveryPresetValidatesAndIsFoundByNameInAnyCase()
    {
        Assert.Equal(["default", "cifar-legacy", "cifar-timm", "small-data"], TrainingRecipes.Names);
        foreach (var name in TrainingRecipes.Names)
        {
            var recipe = TrainingRecipes.Get(name.ToUpperInvariant());
            Assert.Equal(name, recipe.Name);
            recipe.Settings.Validate();
            Assert.False(string.IsNullOrWhiteSpace(recipe.Description));
        }
        Assert.Equal("default", TrainingRecipes.Get(null).Name);
        var e = Assert.Throws<ArgumentException>(() => TrainingRecipes.Get("cifar"));
        Assert.Contains("cifar-legacy", e.Message);
    }

    [Fact]
    public void CifarLegacyIsTheOriginalsLegacyRecipe()
    {
        var r = TrainingRecipes.Get("cifar-legacy");
        var s = r.Settings;
        Assert.Equal((5e-4, 3e-2, 128, 200, 5.0, 0.1), (s.LearningRate, s.WeightDecay, s.BatchSize, s.Epochs, s.WarmupEpochs, s.LabelSmoothing));
        Assert.Equal((AugmentationPolicy.AutoAugmentCifar10, 4, true), (s.AugmentationPolicy, s.RandomCropPadding, s.HorizontalFlip));
        Assert.Equal((0.0, 0.0), (s.MixupAlpha, s.CutMixAlpha));
        Assert.Equal((0.9, 0.999), (s.AdamBeta1, s.AdamBeta2));
        Assert.Equal((0.0, 0.1, 0.1), (r.Dropout, r.AttentionDropout, r.StochasticDepth));
    }

    [Fact]
    public void CifarTimmIsTheOriginalsTimmRecipe()
    {
        var s = TrainingRecipes.Get("cifar-timm").Settings;
        Assert.Equal((5.5e-4, 0.06, 128, 300, 10.0), (s.LearningRate, s.WeightDecay, s.BatchSize, s.Epochs, s.WarmupEpochs));
        Assert.Equal((1e-5, 1e-5, 0.1), (s.WarmupStartLearningRate, s.MinLearningRate, s.LabelSmoothing));
        Assert.Equal((AugmentationPolicy.RandAugment, 2, 9.0, 0.5), (s.AugmentationPolicy, s.RandAugmentOperations, s.RandAugmentMagnitude, s.RandAugmentMagnitudeStd));
        Assert.Equal((0.8, 1.0, 1.0, 0.5), (s.MixupAlpha, s.CutMixAlpha, s.MixProbability, s.MixSwitchProbability));
        Assert.Equal(0.25, s.RandomErasingProbability);
    }

    [Fact]
    public void ARecipeSetsTheNetworksRegularisationOnlyWhereItHasOne()
    {
        var architecture = new CctArchitecture { Dropout = 0.3, AttentionDropout = 0.2, StochasticDepth = 0.4 };
        Assert.Equal(architecture, TrainingRecipes.Get("default").ApplyTo(architecture));
        var legacy = TrainingRecipes.Get("cifar-legacy").ApplyTo(architecture);
        Assert.Equal((0.0, 0.1, 0.1), (legacy.Dropout, legacy.AttentionDropout, legacy.StochasticDepth));
    }

    [Fact]
    public void OptionsThatAreSetOverrideTheRecipeFieldByField()
    {
        var options = new CompactTransformerOptions { Recipe = "cifar-timm", LearningRate = 1e-3, HorizontalFlip = false, Seed = 4, Device = TrainingDevice.Cpu };
        var s = CompactTransformerEstimator.TrainingSettingsFrom(options, 0, 1);
        var timm = TrainingRecipes.Get("cifar-timm").Settings;
        Assert.Equal(timm with
        {
            LearningRate = 1e-3, HorizontalFlip = false, Seed = 4, Device = TrainingDevice.Cpu, Alpha = 0, Beta = 1,
            EarlyStoppingMetric = EarlyStoppingMetric.ValidationTop1,
        }, s);
    }

    [Fact]
    public void WithoutARecipeTheOptionsKeepTheirFormerDefaults()
    {
        var s = CompactTransformerEstimator.TrainingSettingsFrom(new CompactTransformerOptions(), 0, 1);
        Assert.Equal((50, 64, 5e-4, 3e-2, 5.0, 1e-5, 0.1), (s.Epochs, s.BatchSize, s.LearningRate, s.WeightDecay, s.WarmupEpochs, s.MinLearningRate, s.LabelSmoothing));
        Assert.Equal((4, true, AugmentationPolicy.None, 0.0), (s.RandomCropPadding, s.HorizontalFlip, s.AugmentationPolicy, s.MixupAlpha));
        // MinLearningRate alone still sets the warmup start too, as it always did; WarmupStartLearningRate wins when set.
        var floor = CompactTransformerEstimator.TrainingSettingsFrom(new CompactTransformerOptions { MinLearningRate = 1e-9 }, 0, 1);
        Assert.Equal((1e-9, 1e-9), (floor.WarmupStartLearningRate, floor.MinLearningRate));
        var both = CompactTransformerEstimator.TrainingSettingsFrom(new CompactTransformerOptions { MinLearningRate = 1e-9, WarmupStartLearningRate = 1e-6 }, 0, 1);
        Assert.Equal((1e-6, 1e-9), (both.WarmupStartLearningRate, both.MinLearningRate));
    }

    [Fact]
    public void NetworkRegularisationComesFromOptionsThenRecipeThenArchitecture()
    {
        var architecture = new CctArchitecture { Dropout = 0.3, AttentionDropout = 0.2, StochasticDepth = 0.4 };
        var a = CompactTransformerEstimator.RegularizationFrom(new CompactTransformerOptions { Recipe = "cifar-legacy", StochasticDepth = 0.05 }, architecture);
        Assert.Equal((0.0, 0.1, 0.05), (a.Dropout, a.AttentionDropout, a.StochasticDepth));
        Assert.Equal(architecture, CompactTransformerEstimator.RegularizationFrom(new CompactTransformerOptions(), architecture));
    }
}
