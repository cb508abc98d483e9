using Microsoft.ML.CompactTransformer.Search;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Search;

public class TunerComparisonTests(ITestOutputHelper output)
{
    private const int MaxEpochs = 27;
    private const int Budget = 10 * MaxEpochs;
    private static readonly SearchSpaceDefinition Space = SearchSpaceDefinition.Of<CompactTransformerSearchSpace>();

    private static (double Quality, SearchOutcome Outcome) Search(ISearchTuner tuner, int seed)
    {
        var outcome = new SearchLoop
        {
            Tuner = tuner,
            Runner = new SyntheticObjective(seed: 1000 + seed),
            Space = Space,
            MaxEpochs = Budget,
        }.Run(CancellationToken.None);
        return (SyntheticObjective.Quality(outcome.Best!.Parameters), outcome);
    }

    [Theory]
    [InlineData(PromotionMode.ContinueTraining)]
    [InlineData(PromotionMode.Retrain)]
    public void SuccessiveHalvingBeatsRandomSearchAtEqualEpochs(PromotionMode promotion)
    {
        int wins = 0;
        double gain = 0;
        for (int seed = 0; seed < 10; seed++)
        {
            var (random, randomRun) = Search(new RandomSearchTuner(Space, MaxEpochs, seed), seed);
            var (halving, halvingRun) = Search(new SuccessiveHalvingTuner(Space, 1, MaxEpochs, 3, seed, promotion), seed);
            Assert.InRange(randomRun.TotalEpochs, Budget - MaxEpochs + 1, Budget);
            Assert.InRange(halvingRun.TotalEpochs, 1, Budget);
            Assert.Equal(SearchStopReason.EpochBudget, halvingRun.StopReason);
            wins += halving > random ? 1 : 0;
            gain += (halving - random) / 10;
            output.WriteLine($"seed {seed}: random q={random:F3} ({randomRun.Trials.Count} trials), " +
                $"halving q={halving:F3} ({halvingRun.Trials.Count} trials, {halvingRun.Trials.Count(t => t.Rung == 0)} configurations, {halvingRun.TotalEpochs} epochs)");
        }
        output.WriteLine($"{promotion}: successive halving better in {wins}/10 seeds, mean true-quality gain {gain:F3}");
        Assert.True(wins >= 8, $"successive halving won only {wins} of 10 seeds");
        Assert.True(gain > 0, $"mean gain {gain}");
    }

    [Fact]
    public void SuccessiveHalvingPromotesTheTopThirdOfARungAndContinuesFromIt()
    {
        var tuner = new SuccessiveHalvingTuner(Space, 1, 9, 3, seed: 4);
        Assert.Equal(new[] { 1, 3, 9 }, tuner.RungEpochs);
        var scores = new[] { 0.2, 0.9, 0.5 };
        for (int i = 0; i < 3; i++)
        {
            var request = tuner.Propose()!;
            Assert.Equal((0, 1, (int?)null), (request.Rung, request.Epochs, request.ContinueFromTrialId));
            tuner.Update(Result(i + 1, request, scores[i]));
        }
        // Three results at rung 0: the best (trial 2, score 0.9) goes up, continuing from its weights.
        var promotion = tuner.Propose()!;
        Assert.Equal((1, 3, (int?)2, 1, 2), (promotion.Rung, promotion.Epochs, promotion.ContinueFromTrialId, promotion.StartEpochs, promotion.ConfigurationId));
        Assert.Equal(2, promotion.EpochsToTrain);
        // Only one in three may go up; the next request is a new configuration.
        Assert.Equal(0, tuner.Propose()!.Rung);
    }

    [Fact]
    public void RetrainPromotionStartsFromScratch()
    {
        var tuner = new SuccessiveHalvingTuner(Space, 2, 8, 2, seed: 1, PromotionMode.Retrain);
        Assert.Equal(new[] { 2, 4, 8 }, tuner.RungEpochs);
        for (int i = 0; i < 2; i++)
            tuner.Update(Result(i + 1, tuner.Propose()!, i));
        var promotion = tuner.Propose()!;
        Assert.Equal((1, 4, (int?)null, 4), (promotion.Rung, promotion.Epochs, promotion.ContinueFromTrialId, promotion.EpochsToTrain));
    }

    private static TrialResult Result(int trialId, TrialRequest request, double score) => new()
    {
        TrialId = trialId, ConfigurationId = request.ConfigurationId, Rung = request.Rung, Parameters = request.Parameters,
        Epochs = request.Epochs, EpochsTrained = request.EpochsToTrain, Metric = score, Score = score,
    };
}
