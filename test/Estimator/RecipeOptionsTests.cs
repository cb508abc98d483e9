using Microsoft.ML.Data;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Estimator;

[Collection(Training.TorchGlobalStateCollection.Name)]
public sealed class RecipeOptionsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("cct-recipe-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // The timm recipe (RandAugment, mixup / CutMix, crop, flip, dropouts) cut down to two short epochs.
    private CompactTransformerOptions Options(string? resumeFrom = null)
    {
        var options = SyntheticImages.TinyOptions(epochs: 2);
        options.Recipe = "cifar-timm";
        options.RandomCropPadding = null; // back to the recipe's
        options.HorizontalFlip = null;
        options.WarmupEpochs = 0.5;
        options.Device = TrainingDevice.Cpu;
        options.CheckpointEvery = 1;
        options.CheckpointFolder = Path.Combine(folder, resumeFrom is null ? "first" : "second");
        options.ResumeFrom = resumeFrom;
        return options;
    }

    [Fact]
    public void FitTrainsWithARecipeWritesCheckpointsAndResumesToTheSameModel()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(64, seed: 1));
        var validation = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(16, seed: 2));
        using var whole = ml.MulticlassClassification.Trainers.CompactTransformer(Options()).Fit(train, validation);
        Assert.Equal(["epoch-0001", "epoch-0002"], Directory.GetDirectories(Path.Combine(folder, "first")).Select(Path.GetFileName).Order());

        using var resumed = ml.MulticlassClassification.Trainers.CompactTransformer(Options(Path.Combine(folder, "first", "epoch-0001"))).Fit(train, validation);
        Assert.Equal(whole.History.Epochs.Select(e => e.TrainLoss), resumed.History.Epochs.Select(e => e.TrainLoss));
        var a = whole.Transform(validation).GetColumn<float[]>("Score").ToArray();
        var b = resumed.Transform(validation).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(a, b);
    }
}
