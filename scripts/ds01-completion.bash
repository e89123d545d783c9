# bash completion for ds01 and its seed-command symlinks (container-list, container-start, ...).
# Install: cp scripts/ds01-completion.bash /etc/bash_completion.d/ds01
# Container names come from `ds01 container-list --format=simple`, which lists through Core without starting the
# PowerShell engine, so a Tab answers as fast as docker ps; start offers stopped containers, stop running ones.

_ds01_seed_commands="container-create container-deploy container-start container-run container-attach container-pause
container-unpause container-stop container-remove container-retire container-list container-stats container-cleanup
container-exit image-create image-update image-list image-delete image-pull project-init project-launch user-setup check-limits gpu-status dashboard"

_ds01_containers() {  # state filter (Running, Stopped, ...) or empty for all
  local ds01=${_ds01_exe:-ds01}
  if [ -n "$1" ]; then "$ds01" container-list --state="$1" --format=simple 2>/dev/null
  else "$ds01" container-list --format=simple 2>/dev/null; fi
}

_ds01_flags() {
  case "$1" in
    container-create) echo "--gpu= --gpu-slot= --image= --project= --workspace= --data= --wait --timeout=" ;;
    container-deploy) echo "--gpu= --gpu-slot= --image= --project= --workspace= --data= --wait --timeout= --open --shell=" ;;
    container-stop) echo "--timeout= --kill --force" ;;
    container-remove) echo "--stop --force" ;;
    container-retire) echo "--save-image= --force" ;;
    container-list) echo "--all --state=" ;;
    container-stats) echo "--all" ;;
    container-cleanup) echo "--all" ;;
    image-pull) echo "--image= --version= --architecture=" ;;
    container-run|container-attach) echo "--shell=" ;;
    image-create) echo "--framework= --use-case= --package= --jupyter --data-science --force" ;;
    image-update) echo "--add= --remove= --rebuild --no-cache" ;;
    image-list) echo "--all" ;;
    image-delete) echo "--force" ;;
    project-init) echo "--framework= --type= --add= --base-image= --jupyter --data-science --build --no-cache" ;;
    project-launch) echo "--gpu= --container-name= --open" ;;
    user-setup) echo "--container= --image= --gpu= --host= --guided" ;;
    dashboard) echo "--refresh=" ;;
  esac
  echo "--format=table --format=json --format=simple --help --info --concepts"
}

_ds01_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd i
  cmd=$(basename -- "${COMP_WORDS[0]}")
  i=1
  if [ "$cmd" = ds01 ]; then
    if [ "$COMP_CWORD" -eq 1 ]; then
      COMPREPLY=($(compgen -W "$_ds01_seed_commands -c --json --verbose --help --version" -- "$cur")); return
    fi
    cmd=${COMP_WORDS[1]}; i=2
  fi
  if [[ $cur == -* ]]; then
    compopt -o nospace 2>/dev/null
    COMPREPLY=($(compgen -W "$(_ds01_flags "$cmd")" -- "$cur")); return
  fi
  local state=
  case "$cmd" in
    container-start) state=Stopped ;;
    container-stop|container-pause|container-attach|container-stats) state=Running ;;
    container-unpause) state=Paused ;;
    container-run|container-remove|container-retire) state= ;;
    *) return ;;
  esac
  COMPREPLY=($(compgen -W "$(_ds01_containers "$state")" -- "$cur"))
}

complete -F _ds01_complete ds01 container-cleanup container-exit image-pull container-start container-stop container-pause container-unpause container-attach \
  container-run container-remove container-retire container-stats container-list container-create container-deploy \
  image-create image-update image-list image-delete project-init project-launch user-setup check-limits gpu-status dashboard
