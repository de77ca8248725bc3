using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CausalEval.Core.Inference;
using CausalEval.Core.Tasks;

namespace CausalEval.Cli.Commands;

/// <summary>
/// <c>causaleval datasets observer ID [--split test|validation]</c>: precomputes the ideal observer's posterior summary
/// of every episode's passive evidence and writes <c>observer-&lt;split&gt;.jsonl</c> beside the split (keyed by episode id
/// and evidence hash). Runs use it instead of recomputing — the hidden root's posterior takes seconds per episode.
/// </summary>
internal static class ObserverPrecompute
{
    public static Command Create(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "Task id (a passive-exploit task)" };
        var split = new Option<string>("--split") { Description = "Committed split", DefaultValueFactory = _ => TaskDefinition.TestSplit };
        var datasets = CommonOptions.Datasets();
        var command = new Command("observer", "Precompute the ideal observer's posterior for each episode's passive evidence (observer-<split>.jsonl)") { id, split, datasets };
        command.SetAction(parse =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var task = catalog.Load(parse.GetValue(id)!);
            var splitPath = catalog.SplitPath(task.Id, parse.GetValue(split)!);
            var output = ObserverCache.PrecomputedPath(splitPath);
            var lines = new List<string>();
            var watch = Stopwatch.StartNew();
            foreach (var episode in TaskCatalog.ReadSplitFile(splitPath))
            {
                if (episode.Options.Evidence is not { } evidence || ObserverScoring.ModelFor(episode, task) is not { } model)
                {
                    continue;
                }
                var summary = IdealObserver.Infer(model, evidence.Samples, Environment.ProcessorCount).Summary();
                lines.Add(ObserverCache.ToLine(episode.Id, ObserverCache.Hash(model, evidence.Samples), summary));
                if (lines.Count % 10 == 0)
                {
                    console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"progress: {lines.Count} episodes, {watch.Elapsed.TotalSeconds:0} s"));
                }
            }
            // Written whole at the end (to a temporary file, then moved), so an interrupted run leaves no partial file.
            var temporary = output + ".tmp";
            File.WriteAllLines(temporary, lines);
            File.Move(temporary, output, overwrite: true);
            console.Out.WriteLine($"{output}: {lines.Count} episodes");
            return CliApp.Ok;
        });
        return command;
    }
}
