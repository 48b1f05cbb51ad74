import type { App } from "../../../lib/app.js";
import { registerForgotPassword } from "./forgot-password.js";
import { registerLogin } from "./login.js";
import { registerLogout } from "./logout.js";
import { registerRefresh } from "./refresh.js";
import { registerRegister } from "./register.js";
import { registerResetPassword } from "./reset-password.js";

export const registerAuthRoutes = (app: App) => {
  registerRegister(app);
  registerLogin(app);
  registerRefresh(app);
  registerLogout(app);
  registerForgotPassword(app);
  registerResetPassword(app);
};
