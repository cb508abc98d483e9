using System.Runtime.InteropServices;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void MatmulRunsOnThisMachine()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void OpenMpWaitPolicyReachesTheNativeEnvironment()
    {
        // Set by the trainer assembly's initialiser unless the environment already had one.
        var expected = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "PASSIVE";
        Assert.Equal(expected, Marshal.PtrToStringAnsi(getenv("OMP_WAIT_POLICY")));
    }

    [Fact]
    public void OneDnnSwitchIsReadBackFromLibtorch()
    {
        // The test run asks for reference convolutions (Support/ReferenceNumerics); libtorch must report it.
        Assert.False(Native.TorchRuntime.OneDnnConvolutions);
    }

    [DllImport("libc")]
    private static extern IntPtr getenv(string name);
}
