//! `kgen completions SHELL`: clap_complete's script, with environment names
//! (read from the profile on the command line by the hidden `kgen
//! __complete-envs PROFILE`) offered for `--env` and `--to-env` instead of
//! file names.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Exit, write_stdout};
use crate::cli::Cli;

/// Options whose value is an environment name.
const ENV_OPTIONS: &[&str] = &["-e", "--env", "--to-env"];

/// Options that take a value (skipped when looking for the profile).
const VALUE_OPTIONS: &str = "-e|--env|--to-env|-f|--values|--set|-n|--namespace|-a|--api-versions|--kube-version|--files-root|--out-dir|--from|-o|--output|--show-only|--color|--message-format";

pub fn run(shell: Shell) -> Exit {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kgen", &mut out);
    let script = String::from_utf8_lossy(&out).into_owned();
    write_stdout(&with_environments(shell, &script))
}

/// The script with environment names completed for [`ENV_OPTIONS`].
fn with_environments(shell: Shell, script: &str) -> String {
    match shell {
        Shell::Bash => bash(script),
        Shell::Zsh => zsh(script),
        Shell::Fish => fish(script),
        _ => script.to_string(),
    }
}

fn bash(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 1024);
    let mut env_option = false;
    for line in script.lines() {
        let trimmed = line.trim();
        if env_option && trimmed == r#"COMPREPLY=($(compgen -f "${cur}"))"# {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!("{indent}COMPREPLY=($(compgen -W \"$(_kgen_environments)\" -- \"${{cur}}\"))\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
        env_option = trimmed.strip_suffix(')').is_some_and(|o| ENV_OPTIONS.contains(&o));
    }
    out.push_str(&format!(
        r#"
# The environments of the profile named on the command line (else ./kgen.yaml).
_kgen_environments() {{
    local i w profile="" skip=""
    for (( i = 2; i < COMP_CWORD; i++ )); do
        w="${{COMP_WORDS[i]}}"
        if [[ -n "$skip" ]]; then skip=""; continue; fi
        case "$w" in
            {VALUE_OPTIONS}) skip=1 ;;
            -*) ;;
            *) if [[ -f "$w" ]]; then profile="$w"; break; fi ;;
        esac
    done
    "${{COMP_WORDS[0]}}" __complete-envs "${{profile:-kgen.yaml}}" 2>/dev/null
}}
"#
    ));
    out
}

fn zsh(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 1024);
    for (i, line) in script.lines().enumerate() {
        let env_option = ["'-e+[", "'--env=[", "'--to-env=["].iter().any(|o| line.starts_with(o));
        match line.strip_suffix(":NAME:_default' \\") {
            Some(head) if env_option => out.push_str(&format!("{head}:NAME:_kgen_environments' \\\n")),
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
        if i == 0 {
            out.push_str(
                r#"
# The environments of the profile named on the command line (else ./kgen.yaml).
_kgen_environments() {
    local w profile="" skip=""
    for w in "${(@)words[3,CURRENT-1]}"; do
        if [[ -n "$skip" ]]; then skip=""; continue; fi
        case "$w" in
            "#,
            );
            out.push_str(VALUE_OPTIONS);
            out.push_str(
                r#") skip=1 ;;
            -*) ;;
            *) if [[ -f "$w" ]]; then profile="$w"; break; fi ;;
        esac
    done
    local -a environments
    environments=(${(f)"$(${words[1]} __complete-envs "${profile:-kgen.yaml}" 2>/dev/null)"})
    compadd -a environments
}
"#,
            );
        }
    }
    out
}

fn fish(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 1024);
    for line in script.lines() {
        out.push_str(line);
        if line.contains(" -l env ") || line.contains(" -l to-env ") {
            out.push_str(" -f -a \"(__fish_kgen_environments)\"");
        }
        out.push('\n');
    }
    out.push_str(
        r#"
# The environments of the profile named on the command line (else ./kgen.yaml).
function __fish_kgen_environments
    set -l words (commandline -opc)
    set -l profile kgen.yaml
    for w in $words[3..-1]
        if test -f "$w"
            set profile $w
            break
        end
    end
    $words[1] __complete-envs $profile 2>/dev/null
end
"#,
    );
    out
}

/// `kgen __complete-envs PROFILE`: the profile's environments, one a line;
/// nothing (and status 1) when it does not parse.
pub fn environments(path: &Path) -> Exit {
    let mut sources = crate::source::SourceMap::default();
    match crate::profile::load::parse(path, &mut sources) {
        Ok(parsed) => write_stdout(&parsed.environments().map(|e| format!("{e}\n")).collect::<String>()),
        Err(_) => Exit::Problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every environment option of every subcommand gets the environments,
    /// in each shell's script.
    #[test]
    fn environment_options_complete_environments() {
        let generate = |shell| {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kgen", &mut out);
            with_environments(shell, &String::from_utf8(out).unwrap())
        };
        let bash = generate(Shell::Bash);
        // render, check, diff (twice: --env, --to-env) and bootstrap; -e too.
        assert_eq!(bash.matches("$(_kgen_environments)").count(), 4 * 2 + 1, "{bash}");
        let zsh = generate(Shell::Zsh);
        assert_eq!(zsh.matches(":NAME:_kgen_environments'").count(), 4 * 2 + 1);
        let fish = generate(Shell::Fish);
        assert_eq!(fish.matches("(__fish_kgen_environments)").count(), 4 + 1);
    }
}
