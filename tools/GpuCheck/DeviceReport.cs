using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GpuCheck;

/// <summary>
/// <c>info</c>: what this process runs against, and the device features the training path relies on: a matrix product
/// that agrees with the CPU's, page-locked memory with a non-blocking copy, and bfloat16 autocast.
/// </summary>
internal static class DeviceReport
{
    public static int Run(Arguments arguments)
    {
        TorchRuntime.EnsureInitialized();
        var device = arguments.Device();
        bool cudaDevice = device.type == DeviceType.CUDA;
        Console.WriteLine($"device {TrainingDevices.Describe(device)}; cuda.is_available={cuda.is_available()} device_count={cuda.device_count()} cudnn={cuda.is_cudnn_available()}");
        Console.WriteLine($"threads {get_num_threads()}; TF32 matmul={backends.cuda.matmul.allow_tf32} cudnn={backends.cudnn.allow_tf32} (libtorch defaults)");
        bool ok = true;

        manual_seed(0);
        using (var scope = NewDisposeScope())
        {
            var a = randn(512, 512);
            var b = randn(512, 512);
            double diff = (a.matmul(b) - a.to(device).matmul(b.to(device)).cpu()).abs().max().item<float>();
            Console.WriteLine($"matmul 512x512 on the device vs the CPU: max |diff| {diff:E2}");
            ok &= diff < 1e-2;
        }
        if (cudaDevice)
        {
            using var scope = NewDisposeScope();
            var host = arange(1 << 20, ScalarType.Float32, CPU);
            var pinned = host.pin_memory();
            var copy = pinned.to(device, non_blocking: true);
            cuda.synchronize();
            // Tensor.equal is the element-wise comparison in TorchSharp, not torch.equal: reduce it.
            bool same = copy.cpu().eq(host).all().item<bool>();
            Console.WriteLine($"page-locked memory {pinned.is_pinned()}; non-blocking copy of 4 MiB equal: {same}");
            ok &= same && pinned.is_pinned();
        }
        try
        {
            using var scope = NewDisposeScope();
            var x = randn(64, 64, device: device);
            Tensor product;
            using (Autocast.Enter(device, ScalarType.BFloat16))
                product = x.matmul(x);
            Console.WriteLine($"bfloat16 autocast: a matmul under it gives {product.dtype} (expected BFloat16); enabled afterwards: {Autocast.IsEnabled(device)}");
            ok &= product.dtype == ScalarType.BFloat16 && !Autocast.IsEnabled(device);
        }
        catch (NotSupportedException e)
        {
            Console.WriteLine($"bfloat16 autocast: not available ({e.Message})");
            ok = false;
        }
        Console.WriteLine($"RESULT info {(ok ? "PASS" : "FAIL")}");
        return ok ? 0 : 1;
    }
}
