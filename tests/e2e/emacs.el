;;; emacs.el --- Drive PlanGate's language server from a real Emacs with eglot (batch).  -*- lexical-binding: t -*-
;;
;; emacs --batch -l tests/e2e/emacs.el, with PLANGATE_WS (a copy of the demo's sample, a git
;; repository), PLANGATE_PYTHON, PLANGATE_TASK and PLANGATE_OUT in the environment (the model's
;; URL and key in ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY). eglot's own handlers do the work:
;; its prompts are answered by overriding `completing-read' (the first choice, or the code
;; action wanted), its edits confirmed. What it saw goes to PLANGATE_OUT as JSON. Every wait is
;; bounded.

(require 'eglot)
(require 'json)
(require 'project)

(defvar pg-out (make-hash-table :test 'equal))
(defvar pg-wanted nil "The code action to pick next, by title.")
(defvar pg-diagnostics (make-hash-table :test 'equal) "URI -> messages published.")
(defvar pg-prompts nil "Every prompt eglot showed, newest first.")
(defvar pg-supersession nil "Each 'changed on disk' question Emacs asked.")

(setq eglot-confirm-server-initiated-edits nil
      eglot-sync-connect 60
      eglot-connect-timeout 60
      last-nonmenu-event 13)  ; not a mouse event: code actions are read, not popped up

(defun pg-completing-read (prompt collection &rest _)
  "The wanted code action if offered, else the first choice; PROMPT is recorded."
  (push prompt pg-prompts)
  (let* ((choices (mapcar (lambda (c) (if (consp c) (car c) c)) collection))
         (wanted (and pg-wanted (car (member pg-wanted choices)))))
    (setq pg-wanted nil)
    (or wanted (car choices))))
(advice-add 'completing-read :override #'pg-completing-read)
(advice-add 'y-or-n-p :override (lambda (prompt) (push prompt pg-prompts) t))
(advice-add 'yes-or-no-p :override (lambda (prompt) (push prompt pg-prompts) t))
(advice-add 'ask-user-about-supersession-threat :override
            (lambda (file) (push file pg-supersession)))

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql textDocument/publishDiagnostics)) &key uri diagnostics
           &allow-other-keys)
  (puthash uri (mapcar (lambda (d) (plist-get d :message)) diagnostics) pg-diagnostics))

(defun pg-wait (what predicate seconds)
  "Run the event loop until PREDICATE holds, at most SECONDS; error naming WHAT otherwise."
  (let ((deadline (+ (float-time) seconds)) (value nil))
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or value (error "Timed out after %ss waiting for %s" seconds what))))

(defun pg-status (server session)
  (jsonrpc-request server :plangate/sessionStatus (list :sessionId session) :timeout 30))

(defun pg-pending-phase (server session)
  (let ((pending (plist-get (pg-status server session) :pending)))
    (and pending (plist-get pending :phase))))

(defun pg-act (server session title line)
  "Pick the code action TITLE at LINE of the plan, once the session waits for it."
  (pg-wait (format "%s to be offered" title)
           (lambda ()
             (goto-char (point-min))
             (forward-line line)
             (member title (mapcar (lambda (a) (plist-get a :title))
                                   (eglot-code-actions (point) (point)))))
           60)
  (setq pg-wanted title)
  (eglot-code-actions (point) (point) nil t)
  (ignore server session))

(defun pg-heading (regexp)
  "The line number of the first line matching REGEXP in the current buffer."
  (goto-char (point-min))
  (re-search-forward regexp)
  (1- (line-number-at-pos)))

(defun pg-file (ws name)
  (with-temp-buffer (insert-file-contents (expand-file-name name ws)) (buffer-string)))

(defun pg-finish (code)
  (with-temp-file (getenv "PLANGATE_OUT")
    (insert (json-encode pg-out)))
  (kill-emacs code))

(condition-case err
    (let* ((ws (file-name-as-directory (getenv "PLANGATE_WS")))
           (default-directory ws)
           (python (getenv "PLANGATE_PYTHON"))
           (project (project-current nil ws))
           (env-buffer (find-file (expand-file-name ".env" ws)))
           (server (eglot '(fundamental-mode python-mode text-mode) project 'eglot-lsp-server
                          (list python "-m" "plangate.cli" "serve") "plaintext"))
           (db-buffer (find-file-noselect (expand-file-name "app/db.py" ws))))
      (puthash "project" (and project (expand-file-name (project-root project))) pg-out)
      ;; 1. The .env file carries a diagnostic.
      (let ((uri (eglot--path-to-uri (expand-file-name ".env" ws))))
        (puthash "env_diagnostics"
                 (pg-wait "the .env diagnostic" (lambda () (gethash uri pg-diagnostics)) 30)
                 pg-out))
      (ignore env-buffer)
      ;; 2. Propose a plan (a request of PlanGate's own: eglot has no command for it).
      (let* ((proposed (jsonrpc-request server :plangate/proposePlan
                                        (list :agent "backend-developer"
                                              :task (getenv "PLANGATE_TASK"))
                                        :timeout 120))
             (session (plist-get proposed :sessionId))
             (plan-file (eglot--uri-to-path (plist-get proposed :planUri))))
        (puthash "session" session pg-out)
        ;; 3. The plan approved through a code action, then phases 1 and 2.
        (with-current-buffer (find-file plan-file)
          (pg-act server session "PlanGate: Approve plan" (pg-heading "^# "))
          (pg-wait "phase 1 to wait" (lambda () (equal (pg-pending-phase server session) 1)) 60)
          (pg-act server session "PlanGate: Approve & run" (pg-heading "^## Phase 1:"))
          (pg-wait "phase 2 to wait" (lambda () (equal (pg-pending-phase server session) 2)) 120)
          (pg-act server session "PlanGate: Approve & run" (pg-heading "^## Phase 2:"))
          (pg-wait "phase 3 to wait" (lambda () (equal (pg-pending-phase server session) 3)) 120))
        (let ((status (pg-status server session)))
          (puthash "phases" (mapcar (lambda (p) (plist-get p :status)) (plist-get status :phases))
                   pg-out)))
      ;; 4. The files on disk, and the buffer of one of them: not modified, nothing to save.
      (puthash "db" (pg-file ws "app/db.py") pg-out)
      (puthash "api" (pg-file ws "app/api.py") pg-out)
      (puthash "db_buffer_modified" (if (buffer-modified-p db-buffer) t :json-false) pg-out)
      (puthash "prompts" (reverse pg-prompts) pg-out)
      (puthash "supersession" pg-supersession pg-out)
      ;; 5. A clean shutdown, timed.
      (let ((start (float-time)))
        (eglot-shutdown server)
        (puthash "shutdown_seconds" (- (float-time) start) pg-out))
      (puthash "ok" t pg-out)
      (pg-finish 0))
  (error
   (puthash "error" (error-message-string err) pg-out)
   (puthash "prompts" (reverse pg-prompts) pg-out)
   (pg-finish 1)))
