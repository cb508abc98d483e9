using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// Scoring speed of a trained model, ML.NET against ONNX Runtime on the same ONNX bytes. Weights do not change the
/// cost, so the network is a freshly initialised one wrapped by <see cref="CompactTransformerModel.FromNetwork"/>
/// (its input is a Vector&lt;Single&gt; of 0..255 pixels, so the chain is the ONNX transform and the label mapping only).
/// </summary>
internal sealed class InferenceBenchmark : IDisposable
{
    private const int DistinctImages = 100;
    private readonly MLContext ml = new(seed: 1);
    private readonly CompactTransformerModel model;
    private readonly float[][] images;
    private readonly CctNetwork network;

    public InferenceBenchmark(string architecture)
    {
        manual_seed(1);
        network = new CctNetwork(CctPresets.Get(architecture));
        network.eval();
        model = CompactTransformerModel.FromNetwork(ml, network, SyntheticImages.ClassNames, PixelNormalization.Cifar10);
        images = SyntheticImages.Floats(DistinctImages);
    }

    public int ImageSize => images[0].Length;

    /// <summary>Rows per second of Transform over <paramref name="rows"/> rows, reading every row's Score.</summary>
    /// <param name="rows">Rows to score.</param>
    /// <param name="intraOpThreads">ORT IntraOpNumThreads of the chain; 1 is the model's own setting.</param>
    public double MlNetRowsPerSecond(int rows, int intraOpThreads)
    {
        var view = ml.Data.LoadFromEnumerable(Rows(rows), FeatureDefinition());
        // The model's own chain has IntraOpNumThreads = 1; other settings rebuild the same chain from the same bytes.
        using var other = intraOpThreads == 1 ? null : OnnxScoringPipeline.Create(ml, view.Schema, model.GetOnnxModel(), "Features",
            SyntheticImages.ClassNames, new OnnxScoringOptions { IntraOpNumThreads = intraOpThreads });
        ITransformer transformer = other is null ? model : other;
        Consume(transformer.Transform(ml.Data.LoadFromEnumerable(Rows(20), FeatureDefinition()))); // session warmup
        var clock = Stopwatch.StartNew();
        Consume(transformer.Transform(view));
        return rows / clock.Elapsed.TotalSeconds;
    }

    private static float Consume(IDataView scored)
    {
        var score = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([score]);
        var getter = cursor.GetGetter<VBuffer<float>>(score);
        VBuffer<float> buffer = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            sum += buffer.GetValues()[0];
        }
        return sum;
    }

    /// <summary>
    /// Rows per second of ONNX Runtime called directly on the model's ONNX bytes, one image per call (what ML.NET does),
    /// with both outputs the model's chain asks for; or, with <paramref name="batchAxis"/>, a re-export with a batch axis
    /// scored <paramref name="batchSize"/> images per call (what batching could give).
    /// </summary>
    public double OrtRowsPerSecond(int rows, int intraOpThreads, bool batchAxis = false, int batchSize = 1)
    {
        byte[] onnx = batchAxis
            ? CctNetworkSnapshot.ExportOnnx(network, new OnnxExportSettings { BatchAxis = true, ClassNames = SyntheticImages.ClassNames })
            : model.GetOnnxModel();
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(onnx, options);
        string input = session.InputMetadata.Keys.Single();
        string[] outputs = session.OutputMetadata.Keys.ToArray();
        long[] shape = session.InputMetadata[input].Dimensions.Select(d => d > 0 ? (long)d : batchSize).ToArray();
        var buffer = new float[batchSize * ImageSize];
        using var runOptions = new RunOptions();
        float sum = 0;
        void Score(int first)
        {
            for (int b = 0; b < batchSize; b++)
                images[(first + b) % DistinctImages].CopyTo(buffer, b * ImageSize);
            using var value = OrtValue.CreateTensorValueFromMemory(buffer, shape);
            using var results = session.Run(runOptions, [input], [value], outputs);
            sum += results[0].GetTensorDataAsSpan<float>()[0];
        }
        for (int i = 0; i < 20; i++)
            Score(i * batchSize);
        int calls = rows / batchSize;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
            Score(i * batchSize);
        return calls * batchSize / clock.Elapsed.TotalSeconds;
    }

    /// <summary>PredictionEngine single-image latency percentiles in milliseconds.</summary>
    public (double P50, double P99) PredictionEngineLatency(int samples)
    {
        using var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(model, inputSchemaDefinition: FeatureDefinition());
        var input = new FeatureRow();
        for (int i = 0; i < 20; i++)
        {
            input.Features = images[i % DistinctImages];
            engine.Predict(input);
        }
        var milliseconds = new List<double>(samples);
        for (int i = 0; i < samples; i++)
        {
            input.Features = images[i % DistinctImages];
            var clock = Stopwatch.StartNew();
            engine.Predict(input);
            milliseconds.Add(clock.Elapsed.TotalMilliseconds);
        }
        return (Timings.Percentile(milliseconds, 0.5), Timings.Percentile(milliseconds, 0.99));
    }

    private IEnumerable<FeatureRow> Rows(int count)
    {
        for (int i = 0; i < count; i++)
            yield return new FeatureRow { Features = images[i % DistinctImages] };
    }

    private SchemaDefinition FeatureDefinition()
    {
        var definition = SchemaDefinition.Create(typeof(FeatureRow));
        definition[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, ImageSize);
        return definition;
    }

    public void Dispose()
    {
        model.Dispose();
        network.Dispose();
    }

    internal sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    internal sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
