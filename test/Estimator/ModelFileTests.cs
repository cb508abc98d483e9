using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Estimator;

/// <summary>Reading a saved model zip back, and continuing training from it.</summary>
public class ModelFileTests
{
    [Fact]
    public void SavedZipGivesBackArchitectureClassesNormalisationHistoryAndWeights()
    {
        var ml = new MLContext(seed: 1);
        var raw = ml.Data.LoadFromEnumerable(SyntheticImages.Rows(64, seed: 1));
        var options = SyntheticImages.TinyOptions(epochs: 2);
        options.Attention = AttentionVariant.Remix;
        options.Alpha = 0.25;
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.CompactTransformer(options));
        var model = pipeline.Fit(raw);
        var folder = Directory.CreateTempSubdirectory("cct-modelfile-").FullName;
        try
        {
            var zip = Path.Combine(folder, "pipeline.zip");
            ml.Model.Save(model, raw.Schema, zip);
            var saved = CompactTransformerModelFile.Read(zip);
            var trained = model.LastTransformer;

            Assert.Equal(trained.Architecture, saved.Architecture);
            Assert.Equal(trained.ClassNames, saved.ClassNames);
            Assert.Equal(trained.Normalization.Mean, saved.Normalization.Mean);
            Assert.Equal(trained.Normalization.Std, saved.Normalization.Std);
            Assert.Equal((0.25, 0.75, AttentionScope.Pooling), (saved.Mixing.Alpha, saved.Mixing.Beta, saved.Mixing.Scope));
            Assert.Equal(trained.History.Epochs.Select(e => e.TrainLoss), saved.History.Epochs.Select(e => e.TrainLoss));

            // The network rebuilt from the zip computes the model's scores.
            using var network = saved.CreateNetwork();
            network.eval();
            var rows = SyntheticImages.Rows(4, seed: 5);
            var expected = trained.Transform(ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(ml.Data.LoadFromEnumerable(rows)))
                .GetColumn<float[]>("Score").ToArray();
            var n = saved.Normalization;
            using var input = tensor(rows.SelectMany(r => r.Features).ToArray(), rows.Length, 1, 8, 8);
            using var normalised = (input * n.Scale - n.Mean[0]) / n.Std[0];
            using var _ = no_grad();
            using var probabilities = network.call(normalised).softmax(1);
            var actual = probabilities.data<float>().ToArray();
            for (int i = 0; i < rows.Length; i++)
                for (int k = 0; k < 4; k++)
                    Assert.Equal(expected[i][k], actual[i * 4 + k], 5);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            model.LastTransformer.Dispose();
        }
    }

    [Fact]
    public void TrainingContinuesFromASavedZip()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(96, seed: 1));
        using var first = ml.MulticlassClassification.Trainers.CompactTransformer(SyntheticImages.TinyOptions(epochs: 6)).Fit(train);
        var folder = Directory.CreateTempSubdirectory("cct-continue-").FullName;
        try
        {
            var zip = Path.Combine(folder, "model.zip");
            ml.Model.Save(first, train.Schema, zip);

            var fresh = SyntheticImages.TinyOptions(epochs: 1);
            fresh.LearningRate = 1e-9; // effectively frozen: the first epoch must start where the saved model ended
            fresh.MinLearningRate = 1e-9;
            fresh.WeightDecay = 0;
            using var scratch = ml.MulticlassClassification.Trainers.CompactTransformer(fresh).Fit(train);

            fresh.InitialWeightsPath = zip;
            using var continued = ml.MulticlassClassification.Trainers.CompactTransformer(fresh).Fit(train);

            var before = first.Transform(train).GetColumn<float[]>("Score").ToArray();
            var after = continued.Transform(train).GetColumn<float[]>("Score").ToArray();
            for (int i = 0; i < before.Length; i++)
                for (int k = 0; k < before[i].Length; k++)
                    Assert.Equal(before[i][k], after[i][k], 4);
            // Its loss is the saved model's loss, not a fresh network's.
            double saved = first.History.Epochs[^1].TrainLoss, resumed = continued.History.Epochs[0].TrainLoss, restart = scratch.History.Epochs[0].TrainLoss;
            Assert.True(Math.Abs(resumed - saved) < Math.Abs(restart - saved) / 2,
                $"continued loss {resumed}, saved model's last {saved}, from scratch {restart}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TrainingStartsFromACheckpointFolder()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(96, seed: 1));
        var folder = Directory.CreateTempSubdirectory("cct-from-checkpoint-").FullName;
        try
        {
            var options = SyntheticImages.TinyOptions(epochs: 4);
            options.CheckpointEvery = 1;
            options.CheckpointFolder = folder;
            using var first = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train);

            var frozen = SyntheticImages.TinyOptions(epochs: 1);
            frozen.LearningRate = 1e-9;
            frozen.MinLearningRate = 1e-9;
            frozen.WeightDecay = 0;
            frozen.InitialWeightsPath = folder; // its latest epoch: the weights `first` ended with
            using var continued = ml.MulticlassClassification.Trainers.CompactTransformer(frozen).Fit(train);

            var before = first.Transform(train).GetColumn<float[]>("Score").ToArray();
            var after = continued.Transform(train).GetColumn<float[]>("Score").ToArray();
            for (int i = 0; i < before.Length; i++)
                for (int k = 0; k < before[i].Length; k++)
                    Assert.Equal(before[i][k], after[i][k], 4);

            var wrong = SyntheticImages.TinyOptions(epochs: 1);
            wrong.CustomArchitecture = SyntheticImages.TinyArchitecture with { EmbeddingDim = 32 };
            wrong.InitialWeightsPath = folder;
            var e = Assert.Throws<Microsoft.ML.CompactTransformer.Interop.CheckpointMismatchException>(() => ml.MulticlassClassification.Trainers.CompactTransformer(wrong).Fit(train));
            Assert.Contains("epoch-0004", e.Message);
            Assert.NotEmpty(e.MisShaped);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AZipWithoutOurModelIsNamed()
    {
        var ml = new MLContext(seed: 1);
        var raw = ml.Data.LoadFromEnumerable(SyntheticImages.Rows(4, seed: 1));
        var folder = Directory.CreateTempSubdirectory("cct-nomodel-").FullName;
        try
        {
            var zip = Path.Combine(folder, "other.zip");
            ml.Model.Save(ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw), raw.Schema, zip);
            var e = Assert.Throws<InvalidDataException>(() => CompactTransformerModelFile.Read(zip));
            Assert.Contains(zip, e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
