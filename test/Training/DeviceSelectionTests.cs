using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>Device = Auto / Cpu / Cuda: the decision, the CPU fallback, and the error when CUDA is asked for and missing.</summary>
public class DeviceSelectionTests
{
    [Theory]
    [InlineData(TrainingDevice.Cpu, false, DeviceType.CPU)]
    [InlineData(TrainingDevice.Cpu, true, DeviceType.CPU)]
    [InlineData(TrainingDevice.Auto, false, DeviceType.CPU)]
    [InlineData(TrainingDevice.Auto, true, DeviceType.CUDA)]
    [InlineData(TrainingDevice.Cuda, true, DeviceType.CUDA)]
    public void TheChoiceAndCudaAvailabilityDecideTheDevice(TrainingDevice choice, bool cudaAvailable, DeviceType expected)
    {
        Assert.Equal(expected, TrainingDevices.Resolve(choice, cudaAvailable, "X.Device").type);
    }

    [Fact]
    public void CudaWithoutCudaNamesTheOptionAndTheFallback()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TrainingDevices.Resolve(TrainingDevice.Cuda, cudaAvailable: false, "MyOptions.Device"));
        Assert.Contains("MyOptions.Device asks for Cuda", e.Message);
        Assert.Contains("CUDA is not available", e.Message);
        Assert.Contains("Set MyOptions.Device to Auto", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingDevices.Resolve((TrainingDevice)7, cudaAvailable: false, "X.Device"));
    }

    [Fact]
    public void OnThisMachineAutoPicksWhatTorchSharpSees()
    {
        Native.TorchRuntime.EnsureInitialized();
        var auto = TrainingDevices.Resolve(TrainingDevice.Auto);
        Assert.Equal(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, auto.type);
        if (!cuda.is_available())
        {
            var e = Assert.Throws<InvalidOperationException>(() => TrainingDevices.Resolve(TrainingDevice.Cuda));
            Assert.Contains("TrainingSettings.Device asks for Cuda, but CUDA is not available", e.Message);
        }
    }

    [Fact]
    public void TheLoopReportsTheDeviceItResolved()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var settings = new TrainingSettings { Epochs = 1, BatchSize = 32, Threads = 1, Device = TrainingDevice.Auto };
        var loop = new CctTrainingLoop(network, settings);
        var result = loop.Run(QuadrantImages.Create(64, seed: 1), null);
        Assert.Equal(TrainingDevices.Describe(loop.Device), result.Device);
        Assert.Equal(cuda.is_available() ? "cuda:0" : "cpu", result.Device);
    }

    [Fact]
    public void FitWithCudaOnAMachineWithoutItSaysSoNamingTheOption()
    {
        Native.TorchRuntime.EnsureInitialized();
        if (cuda.is_available())
            return; // nothing to refuse on a CUDA machine
        var ml = new MLContext(seed: 1);
        var data = ImageDatasetDataView.ToDataView(ml, QuadrantImages.Create(16, seed: 1));
        var options = new CompactTransformerOptions { Device = TrainingDevice.Cuda, Epochs = 1, FeatureColumnName = "Features" };
        var e = Assert.Throws<InvalidOperationException>(() => new CompactTransformerEstimator(options).Fit(data));
        Assert.Contains("CompactTransformerOptions.Device asks for Cuda", e.Message);
        Assert.Contains("CUDA is not available", e.Message);
    }
}
