using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class TrainingHistoryTests
{
    private static TrainingHistory Sample() => new(
    [
        new EpochMetrics { Epoch = 1, Steps = 8, TrainLoss = 1.0 / 3, TrainAccuracy = 0.25, ValidationLoss = Math.PI, ValidationTop1 = 0.1, ValidationTop5 = 0.7,
            LearningRate = 5e-4 / 7, Alpha = 0.1, Beta = 0.9, Seconds = 1.23456789, ImagesPerSecond = 12345.678 },
        new EpochMetrics { Epoch = 2, Steps = 16, TrainLoss = double.NaN, TrainAccuracy = 1, LearningRate = 1e-5, Alpha = -2.5e-7, Beta = 1, Seconds = 0, ImagesPerSecond = 1e300 },
    ]);

    [Fact]
    public void CsvRoundTripsEveryValueExactly()
    {
        var history = Sample();
        string csv = history.ToCsv();
        Assert.StartsWith("epoch,steps,train_loss,train_accuracy,val_loss,val_accuracy,val_top5,lr,alpha,beta,seconds,images_per_second\n", csv);
        Assert.Equal(history.Epochs, TrainingHistory.FromCsv(csv).Epochs);
        Assert.Contains(",,,", csv.Split('\n')[2]); // no validation: empty cells
    }

    [Fact]
    public void JsonRoundTripsEveryValueExactly()
    {
        var history = Sample();
        string json = history.ToJson();
        Assert.Contains("\"validationTop5\": 0.7", json);
        Assert.Equal(history.Epochs, TrainingHistory.FromJson(json).Epochs);
    }

    [Fact]
    public void FilesAreWrittenWholeAndReadBack()
    {
        string folder = Directory.CreateTempSubdirectory("cct-history-").FullName;
        try
        {
            string csv = Path.Combine(folder, "history.csv"), json = Path.Combine(folder, "history.json");
            File.WriteAllText(csv, "stale");
            var history = Sample();
            history.SaveCsv(csv);
            history.SaveJson(json);
            Assert.Equal(history.Epochs, TrainingHistory.LoadCsv(csv).Epochs);
            Assert.Equal(history.Epochs, TrainingHistory.LoadJson(json).Epochs);
            Assert.Equal(["history.csv", "history.json"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void CsvWithoutAColumnIsRejected()
    {
        Assert.Throws<FormatException>(() => TrainingHistory.FromCsv("epoch,steps\n1,2\n"));
    }

    [Fact]
    public void CsvWithTheEarlierPascalCaseHeaderStillLoads()
    {
        var history = Sample();
        string legacy = "Epoch,Steps,TrainLoss,TrainAccuracy,ValidationLoss,ValidationTop1,ValidationTop5,LearningRate,Alpha,Beta,Seconds,ImagesPerSecond\n"
            + string.Join("", history.ToCsv().Split('\n').Skip(1).Select(l => l.Length > 0 ? l + "\n" : ""));
        Assert.Equal(history.Epochs, TrainingHistory.FromCsv(legacy).Epochs);
    }
}
