using System.Text.Json;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Study;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Training;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

// Seeds libtorch's generator and compares initial weights across Fits: a test drawing random numbers in between breaks that.
/// <summary>Schedules through the public trainer: what the exported model carries, and fine-tuning by deformation.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public class ScheduledTrainingTests
{
    [Fact]
    public void ARampedModelExportsItsFinalWeights()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(64, seed: 1));
        var probe = SyntheticImages.Rows(8, seed: 4);
        var options = SyntheticImages.TinyOptions(epochs: 3);
        options.MixingSchedule = MixingSchedule.Remix(AlphaSchedule.LinearSteps(0, 0.7, steps: 6)); // 4 steps an epoch: ends in epoch 2
        options.AttentionScope = AttentionScope.Both;
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train);

        Assert.Equal((0.7, 1 - 0.7, AttentionScope.Both), (model.Mixing.Alpha, model.Mixing.Beta, model.Mixing.Scope));
        Assert.Equal([0.35, 0.7, 0.7], model.History.Epochs.Select(e => Math.Round(e.Alpha, 12))); // after steps 3 (0.7 * 3/6), 7, 11
        Assert.Equal(new MixingPoint(0, 0, 1), model.History.MixingSteps[0]);
        Assert.Equal(6, model.History.MixingSteps[^1].Step);
        Assert.Equal(0.7, model.History.MixingSteps[^1].Alpha);
        using var metadata = JsonDocument.Parse(OnnxModelReader.Read(model.GetOnnxModel()).Metadata["cct.attention"]);
        Assert.Equal(0.7, metadata.RootElement.GetProperty("Alpha").GetDouble());

        // The ONNX graph computes the network with alpha 0.7, not with the ramp's start.
        var onnx = model.Transform(SyntheticImages.KeyedView(ml, probe)).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        Assert.Equal(onnx, NetworkScores(model, probe, new ValueMixing(0.7, 1 - 0.7, AttentionScope.Both)), new Tolerance(1e-5));
        var atStart = NetworkScores(model, probe, new ValueMixing(0, 1, AttentionScope.Both));
        Assert.True(onnx.Zip(atStart).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "alpha made no difference: the comparison proves nothing");
    }

    [Fact]
    public void FineTuningByDeformationStartsFromTheStandardModelsPredictions()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(64, seed: 1));
        var probe = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(12, seed: 6));
        using var standard = ml.MulticlassClassification.Trainers.CompactTransformer(SyntheticImages.TinyOptions(epochs: 3)).Fit(train);
        var folder = Directory.CreateTempSubdirectory("cct-deform-").FullName;
        try
        {
            string zip = Path.Combine(folder, "standard.zip");
            ml.Model.Save(standard, train.Schema, zip);

            // Learning rate 0 for head and body: the weights cannot move, so the fine-tuned model at alpha 0
            // (the ramp is still in its delay during the one epoch) must compute what the standard model computes.
            var template = SyntheticImages.TinyOptions(epochs: 1);
            template.Seed = 99; // a different seed would initialise differently: only the loaded weights can explain equality
            template.HeadLearningRateMultiplier = 0;
            var options = AttentionDeformation.FineTuningOptions(template, zip, AlphaSchedule.Linear(0, 1, epochs: 4, delayEpochs: 1),
                scope: AttentionScope.Both, bodyLearningRateMultiplier: 0);
            using var frozen = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train);
            Assert.Equal((0.0, 1.0), (frozen.Mixing.Alpha, frozen.Mixing.Beta));
            Assert.Equal(Scores(standard, probe), Scores(frozen, probe), new Tolerance(1e-5));

            // The same start with the ramp under way (alpha 0.5 from the first step) departs from those predictions.
            var ramped = AttentionDeformation.FineTuningOptions(template, zip, AlphaSchedule.Linear(0.5, 1, epochs: 4),
                scope: AttentionScope.Both, bodyLearningRateMultiplier: 0);
            using var deformed = ml.MulticlassClassification.Trainers.CompactTransformer(ramped).Fit(train);
            Assert.Equal(0.5, deformed.Mixing.Alpha);
            Assert.NotEqual(Scores(standard, probe), Scores(deformed, probe), new Tolerance(1e-3));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void BodyAndHeadLearnAtTheirOwnRates()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(32, seed: 1));
        var options = SyntheticImages.TinyOptions(epochs: 1);
        options.BodyLearningRateMultiplier = 0;
        using var headOnly = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train);
        options.BodyLearningRateMultiplier = 1;
        using var all = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train);
        options.HeadLearningRateMultiplier = 0;
        options.BodyLearningRateMultiplier = 0;
        using var none = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train);

        var initial = Weights(none);
        var headOnlyWeights = Weights(headOnly);
        var allWeights = Weights(all);
        foreach (var (key, value) in initial)
        {
            bool head = key.StartsWith("classifier.fc.", StringComparison.Ordinal);
            Assert.Equal(!head, value.SequenceEqual(headOnlyWeights[key])); // frozen body, moving head
            Assert.False(value.SequenceEqual(allWeights[key]), $"{key} did not move with both rates at 1");
        }
    }

    private static Dictionary<string, float[]> Weights(CompactTransformerModel model)
    {
        using var network = CctNetworkFrom(model, model.Mixing);
        return network.state_dict().Where(p => p.Value.dtype == ScalarType.Float32).ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
    }

    private static float[] Scores(CompactTransformerModel model, IDataView data) =>
        model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();

    /// <summary>Probabilities of the TorchSharp network rebuilt from the model's ONNX weights, with the given mixing.</summary>
    private static float[] NetworkScores(CompactTransformerModel model, SyntheticImages.Row[] rows, ValueMixing mixing)
    {
        using var network = CctNetworkFrom(model, mixing);
        network.eval();
        var n = model.Normalization;
        using var _ = no_grad();
        using var input = tensor(rows.SelectMany(r => r.Features).ToArray(), rows.Length, 1, SyntheticImages.Side, SyntheticImages.Side);
        using var normalised = (input * n.Scale - n.Mean[0]) / n.Std[0];
        using var probabilities = network.call(normalised).softmax(1);
        return probabilities.data<float>().ToArray();
    }

    private static CctNetwork CctNetworkFrom(CompactTransformerModel model, ValueMixing mixing)
    {
        var stateDict = OnnxModelReader.Read(model.GetOnnxModel()).StateDict();
        var network = new CctNetwork(model.Architecture, mixing);
        PyTorchCheckpoint.Load(network, stateDict, "test model", new CheckpointLoadOptions());
        return network;
    }

    private sealed class Tolerance(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
