using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Output;

/// <summary>A report is all its files or none: a write that fails (a full disk) leaves the folder as it was.</summary>
public sealed class ReportWriteTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_write_that_fails_part_way_leaves_no_report_file_and_no_temporary_file()
    {
        var run = SyntheticRun.Write(_temp.Sub("run"), Fixtures.Snapshot(), runId: "full-disk", seed: 7);
        var output = _temp.Sub("report");
        var written = 0;
        void FullDisk(string path, byte[] bytes)
        {
            if (++written > 3)
            {
                throw new IOException("No space left on device");
            }
            File.WriteAllBytes(path, bytes);
        }

        var error = Assert.Throws<IOException>(() => ReportGenerator.Generate(new ReportOptions([run], output) { WriteFile = FullDisk }));

        Assert.Contains("No space left on device", error.Message);
        Assert.Empty(Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_failed_report_keeps_the_previous_report_as_it_was()
    {
        var run = SyntheticRun.Write(_temp.Sub("run"), Fixtures.Snapshot(), runId: "full-disk", seed: 7);
        var output = _temp.Sub("report");
        var first = ReportGenerator.Generate(new ReportOptions([run], output));
        var before = first.Files.ToDictionary(f => f, File.ReadAllBytes);

        Assert.Throws<IOException>(() => ReportGenerator.Generate(new ReportOptions([run], output)
        {
            WriteFile = (path, bytes) => throw new IOException("No space left on device"),
        }));

        Assert.Equal(before.Keys.Order(), Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
    }
}
