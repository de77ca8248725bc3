using System.CommandLine;
using CausalEval.Cli.Commands;
using CausalEval.Core;

namespace CausalEval.Cli;

/// <summary>The <c>causaleval</c> command. Exit codes: 0 ok, 1 the run failed, 2 bad input.</summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    /// <param name="args">The command line.</param>
    /// <param name="stdout">Results.</param>
    /// <param name="stderr">Progress and diagnostics.</param>
    /// <param name="cancellationToken">Ctrl-C.</param>
    /// <param name="ask">A yes/no question to the person at the terminal (<see cref="CliConsole.Ask"/>); null: nobody to ask.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default,
        Func<string, bool>? ask = null)
    {
        var console = new CliConsole(stdout, stderr) { Ask = ask };
        var root = new RootCommand("CausalEval: can a model learn an active causal strategy from passive data?")
        {
            RunCommand.Create(console, args),
            SolveCommand.Create(console),
            InferCommand.Create(console),
            DatasetsCommand.Create(console),
            ModelsCommand.Create(console),
            PromptsCommand.Create(console),
            BenchCommand.Create(console),
            CacheCommand.Create(console),
            BaselineCommand.Create(console, args),
            ReportCommand.Create(console),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }
            await stderr.WriteLineAsync("Try 'causaleval --help'.").ConfigureAwait(false);
            return BadInput;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null },
                cancellationToken).ConfigureAwait(false);
        }
        catch (InputException ex)
        {
            await stderr.WriteLineAsync($"error: {Models.Providers.ProviderEnvironment.Process.Redactor().Scrub(ex.Message)}").ConfigureAwait(false);
            return BadInput;
        }
        catch (Exception ex) when (ex is Core.Running.RunFailedException or IOException or UnauthorizedAccessException)
        {
            // A full disk, a folder removed under the run: a clean failure with the reason, never a stack trace.
            await stderr.WriteLineAsync($"error: {Models.Providers.ProviderEnvironment.Process.Redactor().Scrub(ex.Message)}").ConfigureAwait(false);
            return Failed;
        }
    }
}

/// <summary>Where commands write: results to <see cref="Out"/>, progress and diagnostics to <see cref="Error"/>.</summary>
public sealed record CliConsole(TextWriter Out, TextWriter Error)
{
    /// <summary>Asks the person at the terminal a yes/no question (true: yes); null when nobody can answer (input redirected).</summary>
    public Func<string, bool>? Ask { get; init; }
}
