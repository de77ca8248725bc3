namespace CausalEval.Baseline.Tests;

internal sealed class TempDirectory : IDisposable
{
    internal TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("causaleval-baseline-tests-").FullName;
    }

    internal string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
