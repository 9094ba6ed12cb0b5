// The invitation page: accept (sign in or create an account) or decline, through the public API. It is inlined
// in the page and allowed by its hash in the page's Content-Security-Policy: keep it free of anything per page.
(function () {
  "use strict";
  var root = document.getElementById("invitation");
  if (!root || root.dataset.status !== "pending") { return; }
  var token = root.dataset.token;
  var errorBox = document.getElementById("error");

  function api(method, path, body, accessToken) {
    var headers = { "Content-Type": "application/json" };
    if (accessToken) { headers.Authorization = "Bearer " + accessToken; }
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = t ? JSON.parse(t) : null;
          if (!r.ok) { throw new Error(data && data.error ? data.error.message : "Something went wrong."); }
          return data;
        });
      });
  }

  function showError(err) { errorBox.textContent = err.message; errorBox.hidden = false; }

  function item(text) { var li = document.createElement("li"); li.textContent = text; return li; }

  function done(title, text, accessToken, accountId) {
    root.hidden = true;
    document.getElementById("done").hidden = false;
    document.getElementById("done-title").textContent = title;
    document.getElementById("done-text").textContent = text;
    if (!accessToken) { return; }
    document.getElementById("done-next").hidden = false;  // what they have now, and what to do next
    sessionStorage.setItem("latchkey.access_token", accessToken);
    api("GET", "/me", null, accessToken).then(function (me) {
      var list = document.getElementById("accounts");
      document.getElementById("accounts-title").hidden = false;
      me.accounts.forEach(function (a) {
        var li = item(a.name + (a.own ? " (your account)" : " (shared with you, " + a.role.replace("_", " ") + ")"));
        if (a.account_id === accountId) {
          li.id = "joined-account"; li.className = "current";
          document.getElementById("managing").textContent =
            "You are managing " + a.name + " as " + a.role.replace("_", " ") + ".";
        }
        list.appendChild(li);
      });
    });
  }

  function acceptAs(t) {
    return api("POST", "/invitations/" + token + "/accept", null, t.access_token).then(function (r) {
      done("You now have access", "You are signed in and can manage this account.", t.access_token, r.account_id);
    });
  }

  var signin = document.getElementById("signin-form");
  var totp = document.getElementById("totp-form");
  var recovery = document.getElementById("recovery-form");
  if (signin) {
    signin.addEventListener("submit", function (e) {
      e.preventDefault();
      var email = root.dataset.email, password = document.getElementById("password").value;
      api("POST", "/auth/login", { email: email, password: password }).then(function (t) {
        if (t.challenge === "totp") {  // an authenticator app is on: its code is the next step
          document.getElementById("totp-session").value = t.session;
          signin.hidden = true;
          totp.hidden = false;
          recovery.hidden = false;  // a lost app: a recovery code with the password just given
          errorBox.hidden = true;
          document.getElementById("code").focus();
          return null;
        }
        return acceptAs(t);
      }).catch(showError);
    });
  }
  if (totp) {
    totp.addEventListener("submit", function (e) {
      e.preventDefault();
      api("POST", "/auth/login/totp", {
        session: document.getElementById("totp-session").value,
        code: document.getElementById("code").value.replace(/\s/g, "")
      }).then(acceptAs).catch(showError);
    });
  }
  if (recovery) {
    recovery.addEventListener("submit", function (e) {
      e.preventDefault();
      api("POST", "/auth/login/recovery", {
        email: root.dataset.email,
        password: document.getElementById("password").value,
        recovery_code: document.getElementById("recovery-code").value.trim()
      }).then(acceptAs).catch(showError);
    });
  }
  var activate = document.getElementById("activate-form");
  if (activate) {
    activate.addEventListener("submit", function (e) {
      e.preventDefault();
      api("POST", "/invitations/" + token + "/activate", {
        first_name: document.getElementById("first_name").value,
        last_name: document.getElementById("last_name").value,
        password: document.getElementById("password").value
      }).then(function (t) {
        done("Welcome to Latchkey", "Your account is ready and you are signed in.", t.access_token, t.account_id);
      }).catch(showError);
    });
  }
  document.getElementById("decline-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!window.confirm("Decline this invitation? Nothing will be shared with you and the link stops working.")) {
      return;
    }
    api("POST", "/invitations/" + token + "/decline").then(function () {
      done("You declined the invitation", "Nothing was shared with you. You can close this page.");
    }).catch(showError);
  });
})();
