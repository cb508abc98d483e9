using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Tests.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>Dropout and drop path from a thread's own generator (Modeling/StepRandomness): the right statistics, repeatable, and libtorch's dropout when there is none.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class StepRandomnessTests
{
    public StepRandomnessTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void OnAThreadsOwnGeneratorDropoutKeepsOneMinusPAndScalesTheSurvivors()
    {
        using var x = ones(200_000);
        using var generator = new Generator(3, CPU);
        Tensor dropped;
        using (StepRandomness.Use(generator))
            dropped = StepRandomness.Dropout(x, 0.3, training: true);
        using var kept = dropped.ne(0);
        double keptFraction = kept.to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(keptFraction, 0.695, 0.705); // 1 - p, within about 5 standard deviations
        Assert.Equal(1 / 0.7, dropped.masked_select(kept).max().item<float>(), 5);
        Assert.Equal(1 / 0.7, dropped.masked_select(kept).min().item<float>(), 5);

        using var again = new Generator(3, CPU);
        using (StepRandomness.Use(again))
            Assert.True(StepRandomness.Dropout(x, 0.3, training: true).eq(dropped).all().item<bool>(), "same seed, other mask");
        using (StepRandomness.Use(generator))
            Assert.True(StepRandomness.Dropout(x, 0.3, training: false).eq(x).all().item<bool>(), "evaluation must not drop");
    }

    [Fact]
    public void WithoutAThreadGeneratorItIsLibtorchsDropoutOnTheGlobalGenerator()
    {
        using var x = randn(1000);
        manual_seed(21);
        using var ours = StepRandomness.Dropout(x, 0.25, training: true);
        manual_seed(21);
        using var theirs = nn.functional.dropout(x, 0.25, training: true);
        Assert.True(ours.eq(theirs).all().item<bool>());

        manual_seed(22);
        using var uniform = StepRandomness.Uniform([7], ScalarType.Float32, CPU);
        manual_seed(22);
        Assert.True(uniform.eq(rand(7)).all().item<bool>());
    }
}
