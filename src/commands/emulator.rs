//! `emulator status|stop`: the local emulator started by `--local`.

use super::*;

pub(super) fn emulator(action: EmulatorAction) -> Result<ExitCode> {
    match action {
        EmulatorAction::Status => match local::running_endpoint() {
            Some(e) => println!("running at {e}"),
            None => {
                println!("not running");
                return Ok(ExitCode::from(1));
            }
        },
        EmulatorAction::Stop => {
            if local::stop()? {
                println!("stopped");
            } else {
                println!("not running");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
