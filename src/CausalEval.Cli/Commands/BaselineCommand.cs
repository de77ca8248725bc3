using System.CommandLine;
using System.Globalization;
using CausalEval.Baseline;
using CausalEval.Core;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval baseline train | evaluate</c>: the TorchSharp imitation baseline.</summary>
internal static class BaselineCommand
{
    public static Command Create(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var command = new Command("baseline", "Train and evaluate the TorchSharp imitation baseline (play it with run --model torch/<checkpoint>)");
        command.Add(Train(console, commandLine));
        command.Add(Evaluate(console, commandLine));
        return command;
    }

    private static Command Train(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var defaults = new TrainingOptions();
        var tasks = new Option<string[]>("--task")
        {
            Description = $"Explore-exploit task whose train split to imitate (repeatable; default: {string.Join(", ", TrainingOptions.DefaultTasks)})",
        };
        var episodes = new Option<int>("--episodes") { Description = "Expert episodes per task", DefaultValueFactory = _ => defaults.EpisodesPerTask };
        var steps = new Option<int>("--steps") { Description = "Optimiser steps", DefaultValueFactory = _ => defaults.Steps };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights, the minibatch order and the expert's environment", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { Description = "Episodes per minibatch", DefaultValueFactory = _ => defaults.BatchSize };
        var rate = new Option<double>("--learning-rate") { Description = "Peak learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var threads = new Option<int>("--threads") { Description = "libtorch threads", DefaultValueFactory = _ => defaults.Threads };
        var data = new Option<string>("--data")
        {
            Description = "interventional (the expert's experiments) or observational (the control: samples without interventions, exploit labels only)",
            DefaultValueFactory = _ => "interventional",
        };
        data.AcceptOnlyFromAmong("interventional", "observational");
        var evalEpisodes = new Option<int?>("--eval-episodes") { Description = "Score only the first N test episodes of each task for the model card" };
        var output = new Option<string?>("--out") { Description = "Checkpoint folder (default: models/torch/<time>)" };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output" };
        var datasets = CommonOptions.Datasets();
        var command = new Command("train", "Imitate the expert on train splits; write model.bin and model.json (with test-split scores)")
        {
            tasks, episodes, steps, seed, batch, rate, threads, data, evalEpisodes, output, quiet, datasets,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = defaults with
            {
                Tasks = parse.GetValue(tasks) is { Length: > 0 } chosen ? [.. chosen.Distinct()] : TrainingOptions.DefaultTasks,
                EpisodesPerTask = AtLeast("--episodes", parse.GetValue(episodes), 1),
                Steps = AtLeast("--steps", parse.GetValue(steps), 1),
                Seed = parse.GetValue(seed),
                BatchSize = AtLeast("--batch-size", parse.GetValue(batch), 1),
                LearningRate = parse.GetValue(rate) is > 0 and var lr ? lr
                    : throw new InputException("--learning-rate", parse.GetValue(rate).ToString(CultureInfo.InvariantCulture), "must be positive"),
                Threads = AtLeast("--threads", parse.GetValue(threads), 1),
                Data = parse.GetValue(data) == "observational" ? DataCondition.Observational : DataCondition.Interventional,
            };
            if (parse.GetValue(evalEpisodes) is { } n)
            {
                AtLeast("--eval-episodes", n, 1);
            }
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var definitions = options.Tasks.Select(catalog.Load).ToList();
            var folder = parse.GetValue(output) ?? Path.Combine("models", TorchModelProvider.ModelPrefix, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any()
                && !File.Exists(Path.Combine(folder, ModelCard.FileName)))
            {
                throw new InputException("--out", folder, "the folder is neither empty nor a checkpoint folder; choose another");
            }
            var quietly = parse.GetValue(quiet);
            void Log(string line)
            {
                if (!quietly)
                {
                    console.Error.WriteLine(line);
                }
            }

            var started = DateTime.UtcNow;
            var set = Demonstrations.Build(definitions, options.EpisodesPerTask, options.Data, options.Seed, options.Encoder, Log);
            Log(string.Create(CultureInfo.InvariantCulture,
                $"demonstrations: {set.Episodes} sequences of up to {set.Tokens} tokens ({options.Data.ToString().ToLowerInvariant()}), built in {(DateTime.UtcNow - started).TotalSeconds:0.0} s"));
            var progress = new SyncProgress<TrainingProgress>(p => Log(string.Create(CultureInfo.InvariantCulture,
                $"progress: step {p.Step}/{p.Steps} loss {p.Loss:0.000} explore acc {F(p.ExploreAccuracy)} exploit acc {F(p.ExploitAccuracy)} ({p.Elapsed.TotalSeconds:0.0} s)")));
            var result = Trainer.Train(set, options, string.Join(' ', ["causaleval", .. commandLine]), progress, cancellationToken);
            using var policy = new TorchPolicy(result.Network, result.Card);
            Log("evaluating on the test splits…");
            var evaluation = await Evaluation.RunAsync(policy, catalog, catalog.TaskIds(), parse.GetValue(evalEpisodes), 0, cancellationToken)
                .ConfigureAwait(false);
            var card = policy.Save(folder, result.Card with { TestScores = evaluation.Scores });
            WriteScores(console, evaluation);
            var size = new FileInfo(Path.Combine(folder, ModelCard.WeightsFileName)).Length;
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"checkpoint: {folder} ({ModelCard.WeightsFileName} {size / 1024.0:0} KiB, sha256 {card.WeightsSha256}; {card.Architecture.Parameters:N0} parameters; " +
                $"trained in {card.Training.Seconds:0.0} s, {(DateTime.UtcNow - started).TotalSeconds:0.0} s in all)")).ConfigureAwait(false);
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Evaluate(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var model = new Option<string>("--model") { Description = "Checkpoint: torch/<name-or-path>", DefaultValueFactory = _ => TorchModelProvider.DefaultModelId };
        var tasks = new Option<string[]>("--task") { Description = "Task id (repeatable; default: every task)" };
        var episodes = new Option<int?>("--episodes") { Description = "Only the first N episodes of each test split" };
        var seed = new Option<ulong>("--seed") { Description = "Run seed, as for run", DefaultValueFactory = _ => 0 };
        var datasets = CommonOptions.Datasets();
        var output = new Option<string?>("--out") { Description = "Run folder (default: results/<run-id>); `causaleval report` reads it" };
        var command = new Command("evaluate", "Score a checkpoint on test splits as run does, with subset adherence and inference time per decision")
        {
            model, tasks, episodes, seed, datasets, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelId = parse.GetValue(model)!;
            var prefix = TorchModelProvider.ModelPrefix + "/";
            if (!modelId.StartsWith(prefix, StringComparison.Ordinal) || modelId.Length == prefix.Length)
            {
                throw new InputException("--model", modelId, "expected torch/<name-or-path>");
            }
            if (parse.GetValue(episodes) is { } n)
            {
                AtLeast("--episodes", n, 1);
            }
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var taskIds = parse.GetValue(tasks) is { Length: > 0 } chosen ? chosen.Distinct().ToList() : catalog.TaskIds();
            foreach (var id in taskIds)
            {
                catalog.Load(id);
            }
            var policy = TorchModelProvider.Load(TorchModelProvider.Locate(modelId[prefix.Length..], modelId), modelId);
            var identity = new RunIdentity { CommandLine = ["causaleval", .. commandLine], ToolVersion = BuildInfo.Version, GitRevision = BuildInfo.GitRevision };
            var evaluation = await Evaluation.RunAsync(policy, catalog, taskIds, parse.GetValue(episodes), parse.GetValue(seed), cancellationToken,
                parse.GetValue(output) ?? Path.Combine("results", RunSession.NewRunId(DateTimeOffset.UtcNow)), modelId, identity).ConfigureAwait(false);
            await console.Out.WriteLineAsync($"{modelId} ({policy.Card.Data.Condition.ToString().ToLowerInvariant()} data, seed {policy.Card.Training.Seed}, {policy.Card.Training.Steps} steps)")
                .ConfigureAwait(false);
            WriteScores(console, evaluation);
            await console.Out.WriteLineAsync($"results: {evaluation.Run.Directory}").ConfigureAwait(false);
            return evaluation.Run.Status == RunStatus.Finished ? CliApp.Ok : CliApp.Failed;
        });
        return command;
    }

    private static void WriteScores(CliConsole console, EvaluationResult evaluation)
    {
        var o = console.Out;
        o.WriteLine("| task | episodes | normalized | optimal | coverage | subset adherence | structure F1 | invalid | errors |");
        o.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in evaluation.Scores)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Task} | {s.Episodes} | {s.Normalized:0.000} | {s.OptimalAction:0.000} | {F(s.ExploreCoverage)} | {F(s.SubsetAdherence)} | {F(s.StructureF1)} | {100 * s.InvalidRate:0.0}% | {s.Errors} |"));
        }
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"inference: {evaluation.MillisecondsPerDecision:0.000} ms per decision ({evaluation.Decisions:N0} decisions, one at a time)"));
    }

    private static string F(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    private static int AtLeast(string option, int value, int minimum) => value >= minimum
        ? value
        : throw new InputException(option, value.ToString(CultureInfo.InvariantCulture), $"must be at least {minimum}");

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
