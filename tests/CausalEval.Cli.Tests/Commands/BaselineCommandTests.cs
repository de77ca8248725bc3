using System.Text.Json;

namespace CausalEval.Cli.Tests.Commands;

public class BaselineCommandTests
{
    [Fact]
    public async Task Models_lists_the_torch_provider_and_its_default_checkpoint()
    {
        var (code, stdout, _) = await Cli.RunAsync("models");

        Assert.Equal(0, code);
        Assert.Contains("torch/default", stdout);
        Assert.Contains("torch/<path>", stdout);
    }

    [Fact]
    public void The_executable_finds_torch_default_in_the_copy_next_to_it_from_any_folder()
    {
        using var dir = new TempDir();
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "models")));

        var (code, stdout, stderr) = Cli.RunProcess(dir.Path, "run", "--task", "explore-exploit-heldout-link", "--model", "torch/default",
            "--episodes", "10", "--quiet");

        Assert.True(code == 0, stderr);
        Assert.Contains("| 1 | torch/default | — | 10 |", stdout);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "models", "torch", "default", "model.bin")));
    }

    [Fact]
    public async Task Train_writes_a_checkpoint_with_its_card_that_run_can_play()
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ck");

        var (code, stdout, stderr) = await Cli.RunAsync("baseline", "train", "--datasets", Cli.Datasets, "--task", "explore-exploit",
            "--episodes", "40", "--steps", "20", "--seed", "5", "--eval-episodes", "2", "--out", checkpoint);

        Assert.True(code == 0, stderr);
        Assert.Contains("progress: step 20/20", stderr);
        Assert.Contains($"checkpoint: {checkpoint}", stdout);
        using var card = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(checkpoint, "model.json")));
        var root = card.RootElement;
        Assert.Equal(5UL, root.GetProperty("training").GetProperty("seed").GetUInt64());
        Assert.Equal(20, root.GetProperty("training").GetProperty("steps").GetInt32());
        Assert.Equal("train", root.GetProperty("data").GetProperty("sources")[0].GetProperty("split").GetString());
        Assert.Equal(5, root.GetProperty("test_scores").GetArrayLength());
        Assert.StartsWith("causaleval baseline train", root.GetProperty("training").GetProperty("command").GetString());

        var run = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "explore-exploit", "--model", $"torch/{checkpoint}",
            "--episodes", "3", "--out", Path.Combine(dir.Path, "run"), "--quiet");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains($"torch/{checkpoint}", run.Out);
    }

    [Fact]
    public async Task Evaluate_reports_subset_adherence_and_inference_time_and_leaves_a_run_folder_report_reads()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "eval");

        var (code, stdout, stderr) = await Cli.RunAsync("baseline", "evaluate", "--datasets", Cli.Datasets, "--task", "explore-exploit-heldout-subset",
            "--episodes", "20", "--out", run);

        Assert.True(code == 0, stderr);
        Assert.Contains("| task | episodes | normalized | optimal | coverage | subset adherence |", stdout);
        Assert.Contains("| explore-exploit-heldout-subset | 20 |", stdout);
        Assert.Contains("ms per decision", stdout);
        Assert.Contains($"results: {run}", stdout);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(run, "run.json")));
        Assert.Equal("finished", manifest.RootElement.GetProperty("status").GetString());
        Assert.Equal(["torch/default"], manifest.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(20, File.ReadLines(Path.Combine(run, "trials.jsonl")).Count());
        var report = await Cli.RunAsync("report", run, "--out", Path.Combine(dir.Path, "report"));
        Assert.True(report.ExitCode == 0, report.Error);
    }

    [Theory]
    [InlineData("--task", "passive-exploit-observational", "single-turn")]
    [InlineData("--task", "no-such-task", "unknown task")]
    [InlineData("--batch-size", "0", "must be at least 1")]
    [InlineData("--data", "telepathic", "telepathic")]
    public async Task Bad_training_input_exits_2_and_writes_no_checkpoint(string option, string value, string problem)
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ck");

        var (code, _, stderr) = await Cli.RunAsync("baseline", "train", "--datasets", Cli.Datasets, option, value, "--episodes", "5",
            "--steps", "2", "--out", checkpoint, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains(problem, stderr);
        Assert.False(Directory.Exists(checkpoint));
    }

    [Fact]
    public async Task An_unknown_checkpoint_is_bad_input_for_run()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--model", "torch/no-such-checkpoint", "--out", runDir);

        Assert.Equal(2, code);
        Assert.Contains("no checkpoint named 'no-such-checkpoint'", stderr);
        Assert.False(Directory.Exists(runDir));
    }
}
