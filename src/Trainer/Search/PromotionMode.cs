namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>How successive halving gives a promoted configuration its extra epochs.</summary>
public enum PromotionMode
{
    /// <summary>
    /// Continue from the rung's saved model (its weights as initial weights) for the missing epochs only. Cheapest
    /// (a configuration that reaches the top rung costs max epochs in all), but each segment runs its own cosine schedule
    /// without warmup and restarts AdamW's moments, so the result differs from one uninterrupted run of that length.
    /// </summary>
    ContinueTraining,

    /// <summary>
    /// Train again from scratch for the rung's epochs. Exactly the schedule a final run would use, at the price of
    /// re-training the earlier epochs (with reduction factor 3, about 1.5 times the epochs per surviving configuration).
    /// </summary>
    Retrain,
}
