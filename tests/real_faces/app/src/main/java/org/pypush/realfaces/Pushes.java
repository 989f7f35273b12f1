package org.pypush.realfaces;

import jakarta.enterprise.context.RequestScoped;
import jakarta.faces.push.Push;
import jakarta.faces.push.PushContext;
import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The actions of the pages' buttons: each sends through one of the channels the pages open with
 * {@code <f:websocket>}, as the Faces TCK's websocket tests do. Request-scoped: a session-
 * or view-scoped channel's PushContext sends to the session or view of the request it was
 * injected in.
 */
@Named
@RequestScoped
public class Pushes {

    @Inject
    @Push(channel = "app")
    private PushContext app;

    @Inject
    @Push(channel = "user")
    private PushContext user;

    @Inject
    @Push(channel = "refresh")
    private PushContext refresh;

    @Inject
    @Push(channel = "session")
    private PushContext session;

    @Inject
    @Push(channel = "view")
    private PushContext view;

    @Inject
    @Push(channel = "later")
    private PushContext later;

    /** Sends {@code message} to every page with a socket on the application channel. */
    public void sendApp(String message) {
        app.send(message);
    }

    /** Sends {@code message} to the pages of {@code target} only (the socket's user). */
    public void sendUser(String message, String target) {
        user.send(message, target);
    }

    /** Sends the event that the pages' {@code <f:ajax event="refreshed">} listens to. */
    public void sendRefresh() {
        refresh.send("refreshed");
    }

    /** Sends {@code message} to the session-scoped channel (every page of this session). */
    public void sendSession(String message) {
        session.send(message);
    }

    /** Sends {@code message} to the view-scoped channel (this page's view only). */
    public void sendView(String message) {
        view.send(message);
    }

    /** Sends {@code message} to the socket that the postback page renders after a postback. */
    public void sendLater(String message) {
        later.send(message);
    }
}
