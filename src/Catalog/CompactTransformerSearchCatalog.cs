using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Search;

namespace Microsoft.ML;

/// <summary>Entry point of the built-in hyperparameter search, in the manner of AutoML's <c>mlContext.Auto().CreateExperiment()</c>.</summary>
public static class CompactTransformerSearchCatalog
{
    /// <summary>
    /// Creates a search over attention type, alpha, learning rate, weight decay and model size for the Compact Transformer trainer.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="baseOptions">Settings every trial starts from (columns, batch size, epochs, ...).</param>
    public static CompactTransformerExperiment CreateCompactTransformerExperiment(this MLContext mlContext, CompactTransformerOptions? baseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new CompactTransformerExperiment(mlContext, baseOptions);
    }
}
