using System.Runtime.CompilerServices;

namespace CausalEval.Reporting.Tests.Support;

/// <summary>
/// Compares text with a committed file under <c>Snapshots/</c>. Set CAUSALEVAL_UPDATE_SNAPSHOTS=1 to rewrite the files
/// instead (then read the diff before committing).
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, string actual, [CallerFilePath] string caller = "")
    {
        var directory = Path.Combine(ProjectDirectory(caller), "Snapshots");
        var path = Path.Combine(directory, name);
        actual = actual.ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable("CAUSALEVAL_UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"no snapshot {path}; run with CAUSALEVAL_UPDATE_SNAPSHOTS=1 to create it");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual);
    }

    private static string ProjectDirectory(string caller)
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(caller)!); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CausalEval.Reporting.Tests.csproj")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("test project folder not found above " + caller);
    }
}
