using Microsoft.ML.CompactTransformer.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Builds the AdamW optimizer of the training loop: one parameter group (the original's) unless the classifier head
/// and the body learn at different rates (<see cref="TrainingSettings.HeadLearningRateMultiplier"/>,
/// <see cref="TrainingSettings.BodyLearningRateMultiplier"/>), as when fine-tuning a pretrained body gently.
/// </summary>
internal static class OptimizerGroups
{
    /// <summary>Parameters whose state_dict key starts with this are the head (<c>classifier.fc.weight</c>, <c>classifier.fc.bias</c>).</summary>
    public const string HeadPrefix = "classifier.fc.";

    /// <summary>The optimizer and, per parameter group, the factor applied to the scheduled learning rate.</summary>
    /// <param name="network">The network, already on its training device.</param>
    /// <param name="settings">The training settings.</param>
    /// <param name="flat">
    /// A <see cref="FlatAdamW"/> (one buffer per group, a few kernels per step) instead of TorchSharp's per-parameter
    /// AdamW; same formula and state format.
    /// </param>
    public static (OptimizerHelper Optimizer, double[] Multipliers) CreateAdamW(CctNetwork network, TrainingSettings settings, bool flat = false)
    {
        double head = settings.HeadLearningRateMultiplier, body = settings.BodyLearningRateMultiplier;
        var trainable = network.named_parameters().Where(p => p.parameter.requires_grad).ToArray();
        if (head == body)
        {
            var all = trainable.Select(p => p.parameter).ToArray();
            if (flat)
                return (new FlatAdamW([new AdamW.ParamGroup(all, settings.LearningRate * head, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay)],
                    settings.LearningRate * head, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay), [head]);
            return (optim.AdamW(all, settings.LearningRate * head, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay), [head]);
        }
        var headParameters = trainable.Where(p => p.name.StartsWith(HeadPrefix, StringComparison.Ordinal)).Select(p => p.parameter).ToArray();
        var bodyParameters = trainable.Where(p => !p.name.StartsWith(HeadPrefix, StringComparison.Ordinal)).Select(p => p.parameter).ToArray();
        if (headParameters.Length == 0)
            throw new InvalidOperationException($"The network has no trainable parameter under '{HeadPrefix}': the head learning rate cannot apply.");
        var groups = new[]
        {
            new AdamW.ParamGroup(bodyParameters, settings.LearningRate * body, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay),
            new AdamW.ParamGroup(headParameters, settings.LearningRate * head, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay),
        };
        return (flat
            ? new FlatAdamW(groups, settings.LearningRate, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay)
            : optim.AdamW(groups, settings.LearningRate, settings.AdamBeta1, settings.AdamBeta2, settings.AdamEpsilon, settings.WeightDecay), [body, head]);
    }

    /// <summary>Sets every group to the scheduled rate times its multiplier.</summary>
    public static void SetLearningRate(OptimizerHelper optimizer, double learningRate, double[] multipliers)
    {
        int i = 0;
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = learningRate * multipliers[i++];
    }
}
