using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>
/// Fine-tuning by deformation (the RFP's proposal): start from a trained standard model and ramp alpha up from 0
/// while training continues, so that the network is deformed gradually towards softmax over the values instead
/// of being trained with it from scratch.
/// </summary>
public static class AttentionDeformation
{
    /// <summary>
    /// Options that fine-tune <paramref name="initialWeightsPath"/> with <paramref name="alpha"/> ramped as given: a copy
    /// of <paramref name="template"/> with the start weights, the mixing schedule, the scope and the learning-rate
    /// multipliers set. From a model zip of ours the architecture and the input normalisation are taken from the
    /// zip too, so that step 0 computes exactly what the saved model computes (when the ramp starts at 0 and beta at 1).
    /// </summary>
    /// <param name="template">The recipe (epochs, learning rate, columns...); not changed.</param>
    /// <param name="initialWeightsPath">A model zip saved from this trainer, or a PyTorch state_dict of the original (.pt/.pth).</param>
    /// <param name="alpha">Alpha over training, e.g. <c>AlphaSchedule.Linear(0, 1, epochs: 20)</c>; it should start at 0.</param>
    /// <param name="remix">True: beta = 1 - alpha (the RFP's remix); false: beta stays 1 (values plus their softmax).</param>
    /// <param name="scope">Where the value transform applies.</param>
    /// <param name="bodyLearningRateMultiplier">Factor on the learning rate of everything but the classifier head (1: same as the head).</param>
    public static CompactTransformerOptions FineTuningOptions(CompactTransformerOptions template, string initialWeightsPath, AlphaSchedule alpha,
        bool remix = true, AttentionScope scope = AttentionScope.Pooling, double bodyLearningRateMultiplier = 1)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentException.ThrowIfNullOrEmpty(initialWeightsPath);
        ArgumentNullException.ThrowIfNull(alpha);
        var options = OptionsCopy.Of(template);
        options.InitialWeightsPath = initialWeightsPath;
        options.Attention = AttentionVariant.Custom;
        options.AttentionScope = scope;
        options.MixingSchedule = remix ? MixingSchedule.Remix(alpha) : MixingSchedule.Of(alpha, 1);
        options.Alpha = alpha.Start;
        options.Beta = remix ? 1 - alpha.Start : 1;
        options.BodyLearningRateMultiplier = bodyLearningRateMultiplier;
        if (string.Equals(Path.GetExtension(initialWeightsPath), ".zip", StringComparison.OrdinalIgnoreCase))
        {
            var saved = CompactTransformerModelFile.Read(initialWeightsPath);
            // The saved body and normalisation belong together; image size, channels and classes still follow the data.
            options.CustomArchitecture = saved.Architecture;
            options.PixelScale = (float)saved.Normalization.Scale;
            options.Mean = saved.Normalization.Mean.Select(m => (float)m).ToArray();
            options.Std = saved.Normalization.Std.Select(s => (float)s).ToArray();
        }
        return options;
    }
}
