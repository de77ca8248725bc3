using System.Reflection;
using CausalEval.Build.ElfWeakVersion;
using TorchSharp;

namespace CausalEval.Baseline.Tests;

/// <summary>
/// TorchSharp's native library, as the build leaves it: it loads and computes, and the build's
/// copy differs from the package's at most in the weak flag of its GLIBCXX_3.4.32 requirement.
/// </summary>
public sealed class LibTorchSharpTests
{
    private const string NeededLibrary = "libstdc++.so.6";
    private const string Version = "GLIBCXX_3.4.32";

    [Fact]
    public void Cpu_backend_loads_from_the_build_output_and_multiplies_matrices()
    {
        TorchRuntime.EnsureCpu();

        using torch.Tensor a = torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using torch.Tensor b = torch.tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        using torch.Tensor product = a.matmul(b);

        Assert.Equal([2L, 2L], product.shape);
        Assert.Equal([19f, 22f, 43f, 50f], product.data<float>().ToArray());

        if (OperatingSystem.IsLinux())
        {
            // The library the process mapped is the build output's own copy, not one that
            // TorchSharp's fallback copies from the NuGet cache into <output>/cpu/ after a failed load.
            string loaded = File.ReadLines("/proc/self/maps")
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(5))
                .First(path => path is not null && path.EndsWith("/libLibTorchSharp.so", StringComparison.Ordinal))!;
            Assert.Equal(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"), loaded);
        }
    }

    [Fact]
    public void Weakening_a_copy_of_the_package_file_changes_only_the_flags_of_that_requirement()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "libLibTorchSharp.so");
        File.Copy(PackageFile(), path);
        byte[] original = File.ReadAllBytes(path);
        IReadOnlyList<VersionNeed> needsBefore = ElfImage.Parse(original).ReadVersionNeeds();
        VersionNeed target = needsBefore.Single(n => n.File == NeededLibrary && n.Version == Version);
        Assert.False(target.IsWeak);

        Assert.Equal(WeakenOutcome.Weakened, ElfVersionPatcher.MakeVersionNeedWeak(path, NeededLibrary, Version));

        byte[] patched = File.ReadAllBytes(path);
        ElfVersionPatcherTests.AssertSameExceptFlags(original, patched, target.FlagsOffset, expectedFlags: ElfImage.VerFlagWeak);
        IReadOnlyList<VersionNeed> needsAfter = ElfImage.Parse(patched).ReadVersionNeeds();
        Assert.Equal(needsBefore.Select(n => n == target ? n with { Flags = (ushort)(n.Flags | 2) } : n), needsAfter);

        Assert.Equal(WeakenOutcome.AlreadyWeak, ElfVersionPatcher.MakeVersionNeedWeak(path, NeededLibrary, Version));
        Assert.Equal(patched, File.ReadAllBytes(path));
    }

    [Fact]
    public void The_build_output_copy_is_weakened_exactly_when_the_system_libstdcxx_lacks_the_version()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the build fixes the copy only on Linux
        }

        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        byte[] package = File.ReadAllBytes(PackageFile());
        byte[] built = File.ReadAllBytes(output);
        VersionNeed target = ElfImage.Parse(package).ReadVersionNeeds().Single(n => n.File == NeededLibrary && n.Version == Version);

        string? system = SharedLibraryLocator.Find(NeededLibrary, ElfImage.Parse(package).Machine);
        if (system is not null && ElfVersionPatcher.DefinesVersion(system, Version))
        {
            Assert.Equal(package, built);
        }
        else
        {
            ElfVersionPatcherTests.AssertSameExceptFlags(package, built, target.FlagsOffset, expectedFlags: ElfImage.VerFlagWeak);
        }
    }

    /// <summary>The package's own libLibTorchSharp.so (NuGet cache), recorded by the test project's build.</summary>
    private static string PackageFile()
    {
        string? path = typeof(LibTorchSharpTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "LibTorchSharpPackageFile")?.Value;
        Assert.False(string.IsNullOrEmpty(path), "the build did not record the package's libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"{path} does not exist");
        return path;
    }
}
