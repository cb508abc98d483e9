using Microsoft.ML.CompactTransformer.Tests.Cli;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// One model serves several threads at once: Transform on a shared model, and a PredictionEngine per thread, give
/// bitwise the results of a single thread; for the model as trained and as loaded back from its zip.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class ConcurrencyTests : IDisposable
{
    private const int Threads = 4;
    private const int RowsPerThread = 50;

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }

    public static TheoryData<bool> Loaded => new() { false, true };

    /// <summary>The trained model, or the same model as ML.NET loads it from a zip, and Threads x RowsPerThread rows.</summary>
    private (ITransformer Model, SyntheticImages.Row[][] Rows, IDisposable Owner) Model(MLContext ml, bool loaded)
    {
        var (trained, schema) = FaultTests.TinyModel(epochs: 2);
        var rows = SyntheticImages.Rows(Threads * RowsPerThread, seed: 7).Chunk(RowsPerThread).ToArray();
        if (!loaded)
            return (trained, rows, trained);
        string zip = temp.File("model.zip");
        trained.Save(zip, schema);
        trained.Dispose();
        var model = ml.Model.Load(zip, out _);
        return (model, rows, (IDisposable)model);
    }

    /// <summary>Runs <paramref name="work"/> on <see cref="Threads"/> threads released together, so that they overlap.</summary>
    private static T[] OnThreads<T>(Func<int, T> work)
    {
        using var start = new Barrier(Threads);
        var results = new T[Threads];
        var errors = new Exception?[Threads];
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            // An exception must reach the test, not end the test process.
            try { results[t] = work(t); }
            catch (Exception e) { errors[t] = e; }
        })).ToArray();
        foreach (var thread in threads)
            thread.Start();
        foreach (var thread in threads)
            thread.Join();
        if (errors.Any(e => e is not null))
            throw new AggregateException(errors.OfType<Exception>());
        return results;
    }

    [Theory]
    [MemberData(nameof(Loaded))]
    public void Transform_from_four_threads_at_once_equals_a_single_thread_bitwise(bool loaded)
    {
        var ml = new MLContext(seed: 1);
        var (model, rows, owner) = Model(ml, loaded);
        using var _ = owner;
        Prediction[] Score(SyntheticImages.Row[] chunk) =>
            ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(chunk)), reuseRowObject: false).ToArray();

        var single = rows.Select(Score).ToArray();
        var concurrent = OnThreads(t =>
        {
            // Several passes each, so that the threads' scoring overlaps for a while.
            var first = Score(rows[t]);
            for (int pass = 0; pass < 2; pass++)
                AssertSame(first, Score(rows[t]));
            return first;
        });

        for (int t = 0; t < Threads; t++)
            AssertSame(single[t], concurrent[t]);
    }

    [Theory]
    [MemberData(nameof(Loaded))]
    public void A_prediction_engine_per_thread_from_four_threads_at_once_equals_a_single_thread_bitwise(bool loaded)
    {
        var ml = new MLContext(seed: 1);
        var (model, rows, owner) = Model(ml, loaded);
        using var _ = owner;
        Prediction[] Predict(SyntheticImages.Row[] chunk)
        {
            // The engines come and go; the model they share stays.
            using var engine = ml.Model.CreatePredictionEngine<SyntheticImages.Row, Prediction>(model, SharedModel);
            return chunk.Select(r => engine.Predict(r)).ToArray();
        }

        var single = rows.Select(Predict).ToArray();
        var concurrent = OnThreads(t => Predict(rows[t]));

        for (int t = 0; t < Threads; t++)
            AssertSame(single[t], concurrent[t]);
    }

    private static readonly PredictionEngineOptions SharedModel = new() { OwnsTransformer = false };

    [Fact]
    public void An_engine_that_owns_the_model_disposes_it_and_the_model_then_says_so()
    {
        var ml = new MLContext(seed: 1);
        var (model, schema) = FaultTests.TinyModel(epochs: 1);
        var row = SyntheticImages.Rows(1, seed: 7)[0];

        // ML.NET's default: the engine owns its transformer.
        using (var engine = ml.Model.CreatePredictionEngine<SyntheticImages.Row, Prediction>(model))
            Assert.Equal(4, engine.Predict(row).Score.Length);

        var e = Assert.Throws<ObjectDisposedException>(() => ml.Model.CreatePredictionEngine<SyntheticImages.Row, Prediction>(model));
        Assert.Contains(nameof(CompactTransformerModel), e.Message);
        Assert.Throws<ObjectDisposedException>(() => model.Transform(ml.Data.LoadFromEnumerable([row])));
        Assert.Throws<ObjectDisposedException>(() => model.Save(temp.File("model.zip"), schema));
        Assert.False(File.Exists(model.ModelFile));
    }

    private static void AssertSame(Prediction[] expected, Prediction[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // Bitwise: the bit patterns, not a tolerance.
            Assert.Equal(expected[i].Score.Select(BitConverter.SingleToInt32Bits), actual[i].Score.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(expected[i].PredictedLabel, actual[i].PredictedLabel);
        }
    }
}
